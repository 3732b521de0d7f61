"""Check a TF1 program against its TF2 or Keras 3 port, stage by stage.

    backprop-check-migration OLD.py NEW.py [--steps 10] [--dtype float64] [--json -]
    backprop-check-migration SCRIPT.py NEW.py [--outputs NAME] [--train-op NAME] \
        [-- SCRIPT'S ARGUMENTS]
    backprop-check-migration SCRIPT.py --list

OLD.py defines ``tf1_program()`` (returning feeds, loss, train_op and optionally outputs) and
``batches()``, or is a TF1 script as it was written (script mode: its training steps are the
``Session.run`` calls that run an optimizer's op, each step's batch its ``feed_dict``). NEW.py
defines ``tf2_program()`` (a compiled Keras model, or hand-written variables, loss, train_step
and outputs) and optionally ``WEIGHT_MAP``. The check loads TF1's initial weights into the port
and compares, in order: the weights, the forward pass, the loss, the gradients, one step and
many steps, and stops at the first stage that disagrees, naming the tensor, step, variable and
index, the difference against the tolerance, and the likely cause where it is a known pitfall.
``docs/check_migration.md`` has the whole contract.

Exit status: 0 every stage agrees, 1 a stage disagrees, 2 bad input (one ``error:`` line),
3 when ``--json`` could not be written after the check.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from backprop_suite.cli.script import (
    BAD_INPUT,
    ArgumentParser,
    checked,
    print_and_write,
    run_script,
    split_argv,
)
from backprop_suite.core.outputs import check_output_file
from backprop_suite.migration.options import ENVELOPE_MODES, LAYER_MODES, RANDOM_MODES, Options
from backprop_suite.migration.programs import program_file
from backprop_suite.migration.tf1.checkpoints import checkpoint_prefix
from backprop_suite.migration.tf1.old_program import OldProgram, old_program
from backprop_suite.migration.tf1.program import read_data


def add_script_options(parser: ArgumentParser, old: str) -> None:
    """The options that say how ``old`` runs as a script (``tf1_program_of`` reads them)."""
    parser.add_argument(
        "--script",
        action="store_true",
        help=f"read {old} as a script even if it defines tf1_program() (the default for a "
        "file that does not)",
    )
    parser.add_argument(
        "--train-op", metavar="NAME", help="a script's train op, where it makes several (a GAN)"
    )
    parser.add_argument(
        "--outputs", metavar="NAME", help="the script's tensor the forward stage compares"
    )


def tf1_program_of(path: str, args, checkpoint: str | None = None) -> OldProgram:
    """``path`` as ``add_script_options`` and the arguments after ``--`` say it runs."""
    script = True if args.script else None
    return old_program(path, script, args.script_argv, args.train_op, args.outputs, checkpoint)


def parse_args(argv: list[str] | None):
    own, script_argv = split_argv(argv)
    parser = ArgumentParser(description=__doc__)
    parser.add_argument(
        "old", metavar="OLD.py", help="the TF1 program: tf1_program() and batches(), or a script"
    )
    parser.add_argument(
        "new", metavar="NEW.py", nargs="?", help="its port: tf2_program(), WEIGHT_MAP"
    )
    add_script_options(parser, "OLD.py")
    parser.add_argument(
        "--from-checkpoint",
        metavar="CHECKPOINT",
        help="start both programs from a tf.train.Saver checkpoint: weights, counters and, "
        "where the port's optimizer maps them, the optimizer's slots",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print what a port must match (the fed tensors, the trained variables) and, given "
        "NEW.py, the TF1 tensors between its layers; then stop",
    )
    parser.add_argument("--steps", type=int, default=10, help="training steps compared (10)")
    parser.add_argument("--dtype", help="passed to both programs as dtype= (their own default)")
    parser.add_argument("--rtol", type=float, help="relative tolerance (by the loss's dtype)")
    parser.add_argument("--atol", type=float, help="absolute tolerance (by the loss's dtype)")
    parser.add_argument(
        "--random",
        default="aligned",
        choices=RANDOM_MODES,
        help="dropout: the same mask on both sides (aligned), none (off), or as written",
    )
    parser.add_argument(
        "--envelope",
        default="auto",
        choices=ENVELOPE_MODES,
        help="measure how far TF1 moves from itself: when a later step needs it (auto), always, "
        "or never (off: every step held to the per-element tolerance)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the TF1 graph's seed (0)")
    parser.add_argument("--data", metavar="FILE.npz", help="batches instead of OLD.py's batches()")
    parser.add_argument(
        "--layers",
        nargs="?",
        const="always",
        default="failing",
        choices=LAYER_MODES,
        help="compare every layer's output and input-gradient with TF1's: when a stage fails "
        "(failing, the default), on a passing check too (--layers alone: always), or never (off)",
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="give each port layer TF1's own input (and output-gradient) when comparing layers",
    )
    parser.add_argument(
        "--layer-map",
        metavar="LAYER=TENSOR",
        action="append",
        default=[],
        help="pair the port's layer LAYER (one without variables too) with TF1's tensor TENSOR "
        "(its output); repeat for more",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="write the report as JSON there (- for stdout)"
    )
    args = parser.parse_args(own)
    args.script_argv = script_argv
    if args.new is None and not args.list:
        parser.error("NEW.py is required, except with --list")
    return args


def finite(value):
    """JSON has no infinity: a difference that cannot be measured (a dtype mismatch) is text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


def layer_pairs(given: list[str]) -> tuple[tuple[str, str], ...]:
    """``--layer-map LAYER=TENSOR`` arguments as pairs; a ``ValueError`` for any other form."""
    pairs = []
    for text in given:
        layer, _, tensor = text.partition("=")
        if not layer.strip() or not tensor.strip():
            raise ValueError(f"--layer-map takes LAYER=TENSOR, got {text!r}")
        pairs.append((layer.strip(), tensor.strip()))
    layers = [layer for layer, _ in pairs]
    twice = sorted({layer for layer in layers if layers.count(layer) > 1})
    if twice:
        raise ValueError(f"--layer-map pairs {twice} more than once")
    return tuple(pairs)


def prepare(args) -> tuple[OldProgram, Options]:
    """The TF1 program, the options and every file the arguments name, checked before
    TensorFlow is imported."""
    checkpoint = None
    if args.from_checkpoint is not None:
        checkpoint = checkpoint_prefix(args.from_checkpoint)
    old = tf1_program_of(args.old, args, checkpoint)
    options = Options(
        args.steps,
        args.dtype,
        args.rtol,
        args.atol,
        args.random,
        args.seed,
        args.data,
        args.envelope,
        args.layers,
        args.isolate,
        layer_pairs(args.layer_map),
    )
    if args.new is not None:
        program_file(args.new)
    if args.data is not None:
        read_data(args.data, options.steps)
    if args.json is not None and args.json != "-":
        check_output_file(args.json, "--json")
    return old, options


def run_check(old: OldProgram, new: str, options: Options):
    """The check itself, where TensorFlow is first imported."""
    from backprop_suite.migration import check_migration

    return check_migration(old, new, options)


def shape_text(shape: list | None) -> str:
    return "unknown" if shape is None else "[" + ", ".join(str(n) for n in shape) + "]"


def listing(record) -> str:
    """What a port of the program must match: the tensors fed at each step (the batch's keys),
    the trained variables in the order they pair without ``WEIGHT_MAP``, and the others."""
    meta = record.meta
    lines = []
    if meta.get("turns"):
        listed = ", ".join(
            f"{t['train_op']!r} (loss {t['loss'].split(':')[0]!r})" for t in meta["turns"]
        )
        lines.append(
            f"training steps: {len(meta['turns'])} train ops in turn, {listed} ({record.dtype}); "
            "the port gives one train step and one loss per op, in this order"
        )
    elif meta.get("train_op"):
        lines.append(
            f"training step: {meta['train_op']!r}, minimizing {meta['loss_name']!r} "
            f"({record.dtype})"
        )
    lines.append("fed at each step (the batch's keys; NEW.py's 'inputs' and 'targets' name them):")
    for name, fed in meta["fed"].items():
        given = list(np.shape(next(b[name] for b in record.batches if name in b)))
        where = fed.get("source", "feed_dict")
        lines.append(
            f"  {name:<24} {fed['dtype']:<8} declared {shape_text(fed['shape'])}, "
            f"fed {shape_text(given)}" + ("" if where == "feed_dict" else f", {where}")
        )
    lines.append("trained (WEIGHT_MAP's keys; without it they pair with the port's in this order):")
    lines += [
        f"  {name:<24} {shape_text(list(np.shape(v)))}"
        for name, v in zip(record.names, record.initial)
    ]
    if meta.get("near_loss"):
        lines.append("what the loss is computed from, nearest first (--outputs NAME):")
        lines += [f"  {name:<24} {shape_text(shape)}" for name, shape in meta["near_loss"]]
    others = meta.get("others", record.state_names)
    if others:
        lines.append("not trained (WEIGHT_MAP may name them to compare them after every step):")
        lines += [f"  {name}" for name in others]
    return "\n".join(lines)


LISTED_STEPS = 4  # enough to see the train ops that a script turns to (a GAN's two)


def run_listing(old: OldProgram, options: Options, new: str | None = None) -> str:
    """What a port must match; with ``new``, how its layers pair with TF1's tensors too."""
    from backprop_suite.migration import run_tf1

    keep = []
    if new is not None:
        from backprop_suite.migration.port.loading import port_program

        weight_map = getattr(port_program(new)[0], "WEIGHT_MAP", None)
        keep = list(weight_map) if isinstance(weight_map, dict) else []
    record = run_tf1(
        old,
        LISTED_STEPS,
        random=options.random,
        seed=options.seed,
        data=options.data,
        keep=keep,
        listed=True,
    )
    if new is None:
        return listing(record)
    from backprop_suite.migration.verdict.check import layer_pairing

    return listing(record) + "\n" + layer_pairing(record, new, options)


def show_printed(report, verbose: bool) -> None:
    """The script's own output, with ``--verbose``, on stderr apart from the report."""
    printed = getattr(report, "printed", None)
    if verbose and printed:
        where = report.settings.get("program", "the script")
        print(f"--- what {where} printed ---\n{printed.rstrip()}\n---", file=sys.stderr)


def main(argv: list[str] | None = None, check=run_check, list_program=run_listing) -> int:
    """The command line; ``check(old, new, options)`` gives the report (``run_check``),
    ``list_program(old, options)`` the text of ``--list`` (``run_listing``)."""
    args = parse_args(argv)
    prepared = checked(lambda: prepare(args))
    if prepared is None:
        return BAD_INPUT
    old, options = prepared
    try:
        if args.list:
            print(list_program(old, options, args.new) if args.new else list_program(old, options))
            return 0
        report = check(old, args.new, options)
    except (ValueError, RuntimeError) as error:  # RuntimeError: the TF1 process died
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    show_printed(report, args.verbose)
    text = json.dumps(finite(report.to_json()), indent=1, allow_nan=False)
    failed = print_and_write(args.json, report.text(), text)
    if failed is not None:
        return failed
    return 0 if report.agrees else 1


def run() -> None:
    """The ``backprop-check-migration`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
