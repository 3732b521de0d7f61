"""``check_migration``: the TF1 program recorded, then its port run through the six stages."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backprop_suite.migration.options import Options
from backprop_suite.migration.port.loading import kept_floatx, port_program
from backprop_suite.migration.port.port import Port, make_port
from backprop_suite.migration.port.weights import Link, link_weights, split_weight_map
from backprop_suite.migration.programs import call, message_of
from backprop_suite.migration.random_ops import random_mode
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.old_program import OldProgram, from_meta, old_program
from backprop_suite.migration.tf1.run import run_tf1
from backprop_suite.migration.verdict.envelope import Envelope, measure_envelope
from backprop_suite.migration.verdict.report import Report
from backprop_suite.migration.verdict.stages import Checker


def check_port(record: Record, new_path: str, options: Options = Options(), program=None) -> Report:
    """Run the port in ``new_path`` through the six stages against ``record``."""
    module, tf2_program = program or port_program(new_path)
    meta = record.meta

    def measure(first_batch_only: bool) -> Envelope:
        """The record's envelope, kept on it for every port checked against it: of the first
        batch, or of every step (which the first batch's is part of)."""
        found = record.envelope
        if found is None or (found.first_batch_only and not first_batch_only):
            record.envelope = measure_envelope(
                from_meta(meta),
                record,
                meta.get("dtype"),
                meta["random"],
                meta["seed"],
                first_batch_only,
            )
        return record.envelope

    with random_mode(options.random), kept_floatx():
        port, links, state = linked_port(record, new_path, options, module, tf2_program)
        if options.layer_map:  # its names are checked before any stage runs
            from backprop_suite.migration.port.blocks import port_blocks

            port_blocks(port, tuple(dict(options.layer_map)))
        checker = Checker(
            record,
            port,
            links,
            options,
            state,
            None if options.envelope == "off" else measure,
            optimizer_state(record, links, state, port),
        )
        if options.envelope == "always":
            checker.own_envelope()
        stages = checker.run()
        layers = localised(checker, from_meta(meta), options, stages)
    bound = options.tolerance(record.dtype)
    settings = dict(
        record.meta, steps=len(record.batches), dtype=record.dtype, rtol=bound.rtol, atol=bound.atol
    )
    settings["state"] = {
        record.state_names[link.tf1]: port.state_names[link.port] for link in state
    }
    diverged = np.flatnonzero(~np.isfinite(record.losses))
    settings["tf1_diverges_at_step"] = int(diverged[0]) + 1 if diverged.size else None
    if checker.optimizer_state is not None:
        carried = checker.optimizer_state
        settings["optimizer_state"] = {"carried": carried.carried, "not_carried": carried.missing}
    printed = settings.pop("printed", None)
    report = Report(stages, settings, summary(checker.envelope, len(record.batches)), printed)
    report.layers = layers
    return report


def localised(checker: Checker, old: OldProgram, options: Options, stages: list):
    """The layer localisation (``verdict.layers``) of a failing stage after the weights, or of a
    passing check with ``options.layers`` "always"; its reason as text where it cannot be made."""
    from backprop_suite.migration.verdict.layers import localise

    failed = next((s for s in stages if s.agrees is False), None)
    if options.layers == "off" or (failed is None and options.layers != "always"):
        return None
    if failed is not None and failed.stage == "weights":
        return None
    if getattr(checker.port, "model", None) is None and failed is not None:
        if failed.stage == "one step":  # the stages before compared that step's start
            return (
                "no layer's: the outputs, the loss and the gradients agree on the first batch "
                "(the stages before), so the mistake is in the update (the optimizer); a "
                "hand-written port has no layers to compare"
            )
    try:
        return localise(checker, old, options, failed)
    except ValueError as error:  # the stages' verdict stands
        return f"not localised: {error}"
    except Exception as error:  # the port's model, watched layer by layer, raised
        return f"not localised: the port raised {type(error).__name__}: {message_of(error)}"


def linked_port(record: Record, new_path: str, options: Options, module, tf2_program):
    """The port built, and its trained and state variables paired with TF1's."""
    built = call(tf2_program, new_path, **({"dtype": options.dtype} if options.dtype else {}))
    port = make_port(built, new_path)
    require_turns(record, port)
    port.check_batch(record.batches[0])
    trained_map, state_map = split_weight_map(getattr(module, "WEIGHT_MAP", None), record)
    links = link_weights(record.names, record.initial, port.names, port.values(), trained_map)
    state = link_weights(
        record.state_names,
        record.state_initial,
        port.state_names,
        port.state_values(),
        state_map,
        complete=False,
    )
    return port, links, state


def layer_pairing(record: Record, new_path: str, options: Options = Options()) -> str:
    """What ``--list`` says of a port's layers: each with the TF1 tensors at its input and
    output and TF1's variables it holds (``verdict.layers.pairing``)."""
    from backprop_suite.migration.verdict.layers import pairing

    module, tf2_program = port_program(new_path)
    with random_mode(options.random), kept_floatx():
        port, links, state = linked_port(record, new_path, options, module, tf2_program)
        checker = Checker(record, port, links, options, state)
        return pairing(checker, from_meta(record.meta), options)


def require_turns(record: Record, port: Port) -> None:
    """A port gives one train step per train op that the TF1 script turns to; a ``ValueError``
    that lists them otherwise."""
    turns = record.meta.get("turns") or []
    if port.turns == max(len(turns), 1):
        return
    if not turns:
        raise ValueError(
            f"{port.path}: tf2_program() gives {port.turns} train_steps, but the TF1 program "
            "trains one train op"
        )
    listed = ", ".join(f"{t['train_op']!r} (loss {t['loss'].split(':')[0]!r})" for t in turns)
    raise ValueError(
        f"{port.path}: the TF1 script trains {len(turns)} train ops in turn: {listed}; give one "
        "train step and one loss per train op, in this order (tf2_program()'s 'train_steps' and "
        f"'losses'; a port gives {port.turns}), or check one of them with --train-op NAME"
    )


def optimizer_state(record: Record, links: list[Link], state: list[Link], port: Port):
    """For a record started from a checkpoint (``--from-checkpoint``, or the script's own
    restore before its first step): what carries the optimizer's state into the port's
    optimizer once its weights are in (``slots.carry_slots``); None otherwise. Where a script
    restored optimizer state that the port's optimizer cannot take, the check is refused: TF1
    would go on from a state the port never gets."""
    from backprop_suite.migration.port.slots import carry_slots

    steps_mapped = any(port.state_names[k.port].endswith("/iteration") for k in state)
    checkpoint = record.meta.get("checkpoint")
    if checkpoint is not None:
        from backprop_suite.migration.tf1.checkpoints import read_checkpoint

        values = read_checkpoint(checkpoint)
        return lambda: carry_slots(values, record.names, links, port, steps_mapped)
    held = restored_optimizer_state(record)
    if not held:
        return None

    def carried():
        found = carry_slots(record.restored, record.names, links, port, steps_mapped)
        if found.missing:
            raise ValueError(resume_refused(record, held, found.missing[0]))
        return found

    return carried


def restored_optimizer_state(record: Record) -> list[str]:
    """The optimizer's state among what a script restored before its first step: the trained
    variables' slots and Adam's beta powers."""
    from backprop_suite.migration.port.slots import beta_powers, slot_keys

    values = record.restored
    held = [key for name in record.names for key in slot_keys(values, name)]
    return held + list(beta_powers(values) or ())


def resume_refused(record: Record, held: list[str], why: str) -> str:
    restored = record.meta["restored"]
    script = Path(record.meta.get("program", "the script")).name
    shown = ", ".join(held[:4]) + (f" and {len(held) - 4} more" if len(held) > 4 else "")
    fresh = "check the script from a fresh start (where it finds no checkpoint)"
    if why.startswith("a hand-written port"):  # a GAN's: several train steps, several optimizers
        advice = f"{fresh}: the check carries optimizer state into a compiled Keras model's only"
    else:
        advice = (
            f"{fresh}, or give the port an optimizer that continues TF1's slots "
            "(keras_impl.optimizers.TF1Adam, TF1Momentum, TF1RMSProp, or Keras's Adam, RMSprop, "
            "Adagrad)"
        )
    return (
        f"{script} restored {restored['checkpoint']} before its first training step, and with it "
        f"the optimizer's state ({shown}), which the port's optimizer cannot take: {why}; "
        f"{advice}"
    )


def summary(envelope: Envelope | None, steps: int) -> dict | None:
    """What the report says of the envelope: how far each source moved TF1 at the last step,
    and the sources it could not measure."""
    if envelope is None:
        return None
    step = None if envelope.first_batch_only else steps - 1
    return {
        "first_batch_only": envelope.first_batch_only,
        "last_step": {source: envelope.largest(source, step) for source in envelope.sources},
        "missing": [f"{source}: {why}" for source, why in envelope.missing.items()],
    }


def check_migration(old: OldProgram | str, new_path: str, options: Options = Options()) -> Report:
    """Run the TF1 program (in its own process): ``tf1_program()``, or a script as it is
    written (``old_program``); then the port."""
    old = old if isinstance(old, OldProgram) else old_program(old)
    program = port_program(new_path)
    weight_map = getattr(program[0], "WEIGHT_MAP", None)
    keep = list(weight_map) if isinstance(weight_map, dict) else []
    record = run_tf1(
        old, options.steps, options.dtype, options.random, options.seed, options.data, keep
    )
    return check_port(record, new_path, options, program)
