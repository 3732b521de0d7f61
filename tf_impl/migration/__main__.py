"""The child process of ``run_tf1``: run a TF1 program and save its ``Record``."""

from __future__ import annotations

import sys

from common.cli import ArgumentParser
from tf_impl.migration.tf1_run import record_tf1


def main(argv: list[str]) -> int:

    parser = ArgumentParser(description="Run a TF1 program and record it for check_migration.")
    parser.add_argument("old")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--dtype")
    parser.add_argument("--random", default="aligned")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    try:
        record = record_tf1(args.old, args.steps, args.dtype, args.random, args.seed, args.data)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the TF1 program itself failed while it ran
        print(
            f"error: {args.old}: the TF1 program failed: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 2
    record.save(args.out)
    return 0


sys.exit(main(sys.argv[1:]))
