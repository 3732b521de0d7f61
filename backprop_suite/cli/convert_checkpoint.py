"""Carry a TF1 tf.train.Saver checkpoint into a Keras 3 port and write it as Keras 3 reads it.

    backprop-convert-checkpoint CHECKPOINT NEW.py --out FILE.weights.h5
    backprop-convert-checkpoint CHECKPOINT NEW.py --out FILE.keras --check OLD.py

CHECKPOINT is the prefix that ``Saver.save`` returned (``model.ckpt-100000``), one of its files,
or the folder of its ``checkpoint`` file. NEW.py is the port as the migration check reads it:
``tf2_program()`` returning a compiled Keras model, and ``WEIGHT_MAP`` where its variables are
laid out otherwise than TF1's (without it they pair in the creation order that the checkpoint's
``.meta`` file records, or OLD.py's with ``--check``). The optimizer's slots go into the file
too where the port's optimizer has a known mapping (``docs/checkpoints.md``); what is left out
is listed. ``--check OLD.py`` (the contract or a script) restores the checkpoint into the TF1
program and compares its outputs and loss on the first batch with the file's.

Exit status: 0 written (and, with ``--check``, agreeing), 1 written but ``--check`` disagrees,
2 bad input or a variable that does not fit (one ``error:`` line, nothing written), 3 when
``--json`` could not be written.
"""

from __future__ import annotations

import json
import sys

from backprop_suite.cli.check_migration import add_script_options, tf1_program_of
from backprop_suite.cli.script import (
    BAD_INPUT,
    ArgumentParser,
    checked,
    print_and_write,
    run_script,
    split_argv,
)
from backprop_suite.core.outputs import check_output_file
from backprop_suite.migration.conversion.convert import output_kind
from backprop_suite.migration.options import RANDOM_MODES, Options
from backprop_suite.migration.programs import program_file
from backprop_suite.migration.tf1.old_program import OldProgram


def parse_args(argv: list[str] | None):
    own, script_argv = split_argv(argv)
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="a tf.train.Saver checkpoint")
    parser.add_argument("new", metavar="NEW.py", help="the port: tf2_program(), WEIGHT_MAP")
    parser.add_argument("--out", required=True, help="FILE.weights.h5 or FILE.keras")
    parser.add_argument(
        "--check", metavar="OLD.py", help="compare with the TF1 program restored from it"
    )
    add_script_options(parser, "--check's OLD.py")
    parser.add_argument("--random", default="aligned", choices=RANDOM_MODES, help="dropout")
    parser.add_argument("--seed", type=int, default=0, help="the TF1 graph's seed (0)")
    parser.add_argument("--json", metavar="PATH", help="the conversion as JSON (- for stdout)")
    args = parser.parse_args(own)
    args.script_argv = script_argv
    return args


def prepare(args) -> OldProgram | None:
    """Every file the arguments name, checked before TensorFlow is imported; the TF1 program
    of ``--check``."""
    from backprop_suite.migration.tf1.checkpoints import checkpoint_prefix

    output_kind(args.out)
    check_output_file(args.out, "--out")
    args.checkpoint = checkpoint_prefix(args.checkpoint)
    program_file(args.new)
    if args.json is not None and args.json != "-":
        check_output_file(args.json, "--json")
    given = args.script or args.outputs or args.train_op or args.script_argv
    if args.check is None:
        if given:
            raise ValueError("--script, --outputs, --train-op and arguments after -- need --check")
        return None
    return tf1_program_of(args.check, args)


def run_conversion(args, old: OldProgram | None):
    from backprop_suite.migration.conversion.convert import convert_checkpoint

    options = Options(1, random=args.random, seed=args.seed)
    return convert_checkpoint(args.checkpoint, args.new, args.out, old, options)


def main(argv: list[str] | None = None, convert=run_conversion) -> int:
    """The command line; ``convert(args, old)`` does the work (``run_conversion``)."""
    args = parse_args(argv)
    prepared = checked(lambda: (prepare(args),))
    if prepared is None:
        return BAD_INPUT
    try:
        conversion = convert(args, prepared[0])
    except (ValueError, RuntimeError) as error:  # RuntimeError: the TF1 process died
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    text = json.dumps(conversion.to_json(), indent=1)
    failed = print_and_write(args.json, conversion.text(), text)
    if failed is not None:
        return failed
    return 0 if conversion.agrees else 1


def run() -> None:
    """The ``backprop-convert-checkpoint`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
