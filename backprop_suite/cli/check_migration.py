"""Check a TF1 program against its TF2 or Keras 3 port, stage by stage.

    python scripts/check_migration.py OLD.py NEW.py [--steps 10] [--dtype float64] [--json -]

OLD.py defines ``tf1_program()`` (returning feeds, loss, train_op and optionally outputs) and
``batches()``; NEW.py defines ``tf2_program()`` (a compiled Keras model, or hand-written variables,
loss, train_step and outputs) and optionally ``WEIGHT_MAP``. The check loads TF1's initial weights
into the port and compares, in order: the weights, the forward pass, the loss, the gradients, one
step and many steps, and stops at the first stage that disagrees, naming the tensor, step,
variable and index, the difference against the tolerance, and the likely cause where it is a
known pitfall. ``docs/check_migration.md`` has the whole contract.

Exit status: 0 every stage agrees, 1 a stage disagrees, 2 bad input (one ``error:`` line),
3 when ``--json`` could not be written after the check.
"""

from __future__ import annotations

import json
import math
import sys

from backprop_suite.cli.script import BAD_INPUT, ArgumentParser, checked, run_script
from backprop_suite.core.outputs import Writes, check_output_file, write_text
from backprop_suite.migration.options import ENVELOPE_MODES, RANDOM_MODES, Options
from backprop_suite.migration.programs import program_file
from backprop_suite.migration.tf1_run import read_data


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", metavar="OLD.py", help="the TF1 program: tf1_program(), batches()")
    parser.add_argument("new", metavar="NEW.py", help="its port: tf2_program(), WEIGHT_MAP")
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
        "--json", metavar="PATH", help="write the report as JSON there (- for stdout)"
    )
    return parser.parse_args(argv)


def finite(value):
    """JSON has no infinity: a difference that cannot be measured (a dtype mismatch) is text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


def prepare(args) -> Options:
    """The options and every file the arguments name, checked before TensorFlow is imported."""
    options = Options(
        args.steps,
        args.dtype,
        args.rtol,
        args.atol,
        args.random,
        args.seed,
        args.data,
        args.envelope,
    )
    program_file(args.old)
    program_file(args.new)
    if args.data is not None:
        read_data(args.data, options.steps)
    if args.json is not None and args.json != "-":
        check_output_file(args.json, "--json")
    return options


def run_check(old: str, new: str, options: Options):
    """The check itself, where TensorFlow is first imported."""
    from backprop_suite.migration import check_migration

    return check_migration(old, new, options)


def main(argv: list[str] | None = None, check=run_check) -> int:
    """The command line; ``check(old, new, options)`` gives the report (``run_check``)."""
    args = parse_args(argv)
    options = checked(lambda: prepare(args))
    if options is None:
        return BAD_INPUT
    try:
        report = check(args.old, args.new, options)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    text = json.dumps(finite(report.to_json()), indent=1, allow_nan=False)
    if args.json == "-":
        print(text)
    else:
        print(report.text())
    writes = Writes()
    if args.json is not None and args.json != "-":
        writes.attempt("--json", args.json, lambda: write_text(args.json, text + "\n"))
    failed = writes.finish(None if args.json == "-" else lambda: text)
    if failed is not None:
        return failed
    return 0 if report.agrees else 1


def run() -> None:
    """The ``backprop-check-migration`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
