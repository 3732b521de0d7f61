"""Carry a TF1 ``tf.train.Saver`` checkpoint into a Keras 3 port and write it as Keras 3 reads
it: ``FILE.weights.h5`` (the model's weights) or ``FILE.keras`` (the model, and the optimizer's
state where the port's optimizer has a known slot mapping: ``slots``).

Each TF1 variable goes into the port as the migration check carries the initial weights
(``weights.link_weights``): through ``WEIGHT_MAP`` and its transforms, or paired in creation
order with the shapes checked. The order is the TF1 program's own when ``--check OLD.py`` runs
it, else the one the checkpoint's ``.meta`` file records. With ``--check``, the TF1 program is
restored from the checkpoint in its own process, and its outputs and loss on the first batch
are compared with those of the file written, read back, at the forward stage's tolerance.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from backprop_suite.migration.options import Options
from backprop_suite.migration.tf1.checkpoints import creation_order, held, read_checkpoint
from backprop_suite.migration.tf1.old_program import OldProgram
from backprop_suite.verify.tolerances import Difference, difference

SUFFIXES = (".weights.h5", ".keras")
COUNTER_WORDS = ("step", "iteration", "epoch", "count")


def output_kind(out: str | Path) -> str:
    """``.weights.h5`` or ``.keras``; any other name is a ``ValueError``."""
    for suffix in SUFFIXES:
        if str(out).endswith(suffix):
            return suffix
    raise ValueError(f"--out {out}: Keras 3 writes FILE.weights.h5 or FILE.keras")


@dataclass
class Conversion:
    """What was carried (TF1 name -> port path), what was left out and why, the optimizer's
    state carried or not, and the ``--check`` comparisons (None: not asked)."""

    out: str
    carried: dict[str, str]
    left_out: dict[str, str]
    slots: list[str] = field(default_factory=list)
    slots_missing: list[str] = field(default_factory=list)
    outputs: Difference | None = None
    loss: Difference | None = None
    checked: str | None = None
    tolerance: str = ""

    @property
    def agrees(self) -> bool:
        return all(d is None or d.agrees for d in (self.outputs, self.loss))

    def text(self) -> str:
        lines = [f"carried {len(self.carried)} variables into {self.out}:"]
        lines += [f"  {old} -> {new}" for old, new in self.carried.items()]
        if self.slots:
            shown = ", ".join(self.slots[:4]) + (" ..." if len(self.slots) > 4 else "")
            lines.append(f"optimizer state carried: {len(self.slots)} entries ({shown})")
        lines += [f"optimizer state not carried: {why}" for why in self.slots_missing]
        if self.left_out:
            lines.append("left out:")
            lines += [f"  {name}: {why}" for name, why in self.left_out.items()]
        if self.checked is not None:
            for what, found in (("outputs", self.outputs), ("loss", self.loss)):
                if found is None:
                    lines.append(f"check {what}: skipped (TF1's program gives none)")
                    continue
                verdict = "agrees" if found.agrees else "DISAGREES"
                lines.append(
                    f"check {what}: {verdict} with {self.checked} restored from the checkpoint: "
                    f"largest |converted - TF1| {found.largest:.2e} ({self.tolerance})"
                )
        return "\n".join(lines)

    def to_json(self) -> dict:
        found = {
            "out": self.out,
            "carried": self.carried,
            "left_out": self.left_out,
            "optimizer_state": {"carried": self.slots, "not_carried": self.slots_missing},
            "agrees": self.agrees,
        }
        for what in ("outputs", "loss"):
            value = getattr(self, what)
            found[what] = (
                None if value is None else {"agrees": value.agrees, "largest": value.largest}
            )
        return found


def why_left_out(name: str, value: np.ndarray, trained: list[str], kind: str) -> str:
    owner = name.rsplit("/", 1)[0]
    if owner in trained:
        where = "FILE.keras carries it where the port's optimizer maps TF1's slots"
        return (
            f"an optimizer slot of {owner} ({where})"
            if kind == ".weights.h5"
            else (f"an optimizer slot of {owner}, not carried")
        )
    if name.startswith(("beta1_power", "beta2_power")):
        return "Adam's running power of its beta"
    integral = np.issubdtype(value.dtype, np.integer) or value.ndim == 0
    if integral and any(word in name.lower() for word in COUNTER_WORDS):
        return "a step counter (WEIGHT_MAP may carry it into the optimizer's iterations)"
    return "not a trained variable of the program, and WEIGHT_MAP does not name it"


def pairing(prefix: str, weight_map: dict | None, record, port_names: list[str]) -> tuple:
    """TF1's trained variables in the order the port's pair with them, TF1's state variables,
    and ``WEIGHT_MAP`` split between the two: as the check pairs them when the TF1 program ran
    (``record``), else by what each entry fills in the port, else in the creation order of the
    checkpoint's ``.meta`` file."""
    from backprop_suite.migration.port.weights import split_weight_map

    if record is not None:
        trained_map, state_map = split_weight_map(weight_map, record)
        return list(record.names), list(record.state_names), trained_map, state_map
    if weight_map is not None:
        trained_map, state_map = split_map(weight_map, port_names)
        return list(trained_map), list(state_map), trained_map, state_map
    order = creation_order(prefix)
    if order is None:
        raise ValueError(
            f"{prefix}: no .meta file beside it, so the variables' creation order is unknown: "
            "give WEIGHT_MAP in the port's file, or --check OLD.py"
        )
    return order, [], None, {}


@contextlib.contextmanager
def written_atomically(out: Path):
    """A temporary path beside ``out`` with its suffix, moved onto ``out`` when the block ends
    without an error and removed otherwise."""
    kind = output_kind(out)
    temporary = out.with_name(f".{out.name.removesuffix(kind)}.{os.getpid()}.partial{kind}")
    try:
        yield temporary
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def convert_checkpoint(
    checkpoint: str,
    new_path: str,
    out: str,
    old: OldProgram | None = None,
    options: Options = Options(),
) -> Conversion:
    """Carry ``checkpoint`` into ``new_path``'s model, write ``out``, and with ``old`` compare
    the file written with the TF1 program restored from the checkpoint."""
    from backprop_suite.migration.port.loading import kept_floatx, port_program
    from backprop_suite.migration.port.port import make_port
    from backprop_suite.migration.port.slots import carry_slots
    from backprop_suite.migration.port.weights import link_weights
    from backprop_suite.migration.programs import call, message_of
    from backprop_suite.migration.random_ops import random_mode
    from backprop_suite.migration.tf1.run import run_tf1

    kind = output_kind(out)
    values = read_checkpoint(checkpoint)
    module, tf2_program = port_program(new_path)
    weight_map = getattr(module, "WEIGHT_MAP", None)
    record = None
    if old is not None:
        keep = list(weight_map) if isinstance(weight_map, dict) else []
        old = replace(old, checkpoint=checkpoint)
        record = run_tf1(old, 1, None, options.random, options.seed, options.data, keep)
    with random_mode(options.random), kept_floatx():
        built = call(tf2_program, new_path)
        port = make_port(built, new_path)
        if not hasattr(port, "model"):
            raise ValueError(
                f"{new_path}: tf2_program() gives hand-written variables, not a keras.Model: "
                "Keras 3's files hold a model"
            )
        names, state_names, trained_map, state_map = pairing(
            checkpoint, weight_map, record, port.names
        )
        missing = [n for n in names + state_names if n not in values]
        if missing:
            raise ValueError(
                f"{checkpoint} holds no value for TF1's {missing}: it holds {held(values)}"
            )
        links = link_weights(
            names, [values[n] for n in names], port.names, port.values(), trained_map
        )
        state = link_weights(
            state_names,
            [values[n] for n in state_names],
            port.state_names,
            port.state_values(),
            state_map,
            complete=False,
        )
        weights = [link.carry(values[names[link.tf1]]) for link in links]
        for link, value in zip(links, weights):
            variable = port.variables[link.port]
            dtype = np.dtype(getattr(variable.dtype, "name", variable.dtype))
            if value.dtype != dtype:
                raise ValueError(
                    f"TF1's {names[link.tf1]} is {value.dtype}, the port's "
                    f"{port.names[link.port]} {dtype}: build the port in TF1's dtype"
                )
        port.assign(weights)
        port.assign_state(
            [link.port for link in state],
            [link.carry(values[state_names[link.tf1]]) for link in state],
        )
        carried: dict[str, str] = {}
        for link in links:
            into = port.names[link.port]
            name = names[link.tf1]
            carried[name] = f"{carried[name]}, {into}" if name in carried else into
        carried |= {state_names[k.tf1]: port.state_names[k.port] for k in state}
        steps_mapped = any(port.state_names[k.port].endswith("/iteration") for k in state)
        slots = carry_slots(values, names, links, port, steps_mapped)
        with written_atomically(Path(out)) as temporary:
            try:
                if kind == ".keras":
                    port.model.save(temporary)
                else:
                    port.model.save_weights(temporary)
            except Exception as error:
                raise ValueError(
                    f"--out {out}: Keras cannot write the port's model: {type(error).__name__}: "
                    f"{message_of(error)}"
                ) from None
    taken = set(carried) | set(slots.carried)
    left_out = {
        name: why_left_out(name, values[name], names)
        for name in sorted(values)
        if name not in taken
    }
    conversion = Conversion(str(out), carried, left_out, slots.carried, slots.missing)
    if record is not None:
        compare_with_tf1(conversion, record, new_path, built, options)
    return conversion


def split_map(weight_map: dict, port_names: list[str]) -> tuple[dict, dict]:
    """``WEIGHT_MAP``'s entries for trained port variables, and the others (state)."""
    from backprop_suite.migration.port.weights import _entries

    trained = {k: v for k, v in weight_map.items() if any(p in port_names for p, _ in _entries(v))}
    return trained, {k: v for k, v in weight_map.items() if k not in trained}


def compare_with_tf1(conversion: Conversion, record, new_path: str, built: dict, options) -> None:
    """The file just written, read back, against TF1 restored from the checkpoint: outputs
    and loss on the first batch."""
    import keras

    from backprop_suite.migration.port.loading import kept_floatx, port_program
    from backprop_suite.migration.port.port import make_port
    from backprop_suite.migration.programs import call, message_of
    from backprop_suite.migration.random_ops import random_mode

    bound = options.tolerance(record.dtype)
    conversion.checked = record.meta["program"]
    conversion.tolerance = f"rtol {bound.rtol:g}, atol {bound.atol:g}"
    keys = {key: built[key] for key in ("inputs", "targets") if key in built}
    with random_mode(options.random), kept_floatx():
        module, tf2_program = port_program(new_path)
        try:
            if conversion.out.endswith(".keras"):
                own = {name: value for name, value in vars(module).items() if callable(value)}
                model = keras.saving.load_model(conversion.out, custom_objects=own)
            else:
                model = call(tf2_program, new_path)["model"]
                model.optimizer.build(model.trainable_variables)  # so that its state loads too
                model.load_weights(conversion.out)
        except ValueError:
            raise
        except Exception as error:
            raise ValueError(
                f"{conversion.out} was written but does not load back: {type(error).__name__}: "
                f"{message_of(error)}"
            ) from None
        port = make_port({"model": model, **keys}, new_path)
        first = record.batches[0]
        if record.outputs is not None:
            new = np.asarray(port.outputs_of(first))
            conversion.outputs = difference(
                new.reshape(record.outputs.shape), record.outputs, bound
            )
        conversion.loss = difference(np.asarray(port.loss_of(first)), record.loss, bound)
