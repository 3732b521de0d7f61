"""The child processes of ``run_tf1`` and ``measure_envelope``: run a TF1 program under v1
behaviour and save its ``Record``, or run it again and save how far it moves from one; with
``serve``, one such job after another, TensorFlow imported once (``migration.processes``)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

from backprop_suite.cli.script import ArgumentParser


def parse_args(argv: list[str]):
    parser = ArgumentParser(description="Run a TF1 program for check_migration.")
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record")
    record.add_argument("old")
    record.add_argument("out")
    record.add_argument("--steps", type=int, required=True)
    record.add_argument("--data")
    record.add_argument("--keep", action="append", default=[])
    record.add_argument("--listed", action="store_true")
    spread = commands.add_parser("spread")
    spread.add_argument("old")
    spread.add_argument("record")
    spread.add_argument("out")
    spread.add_argument("--nudges", type=int, required=True)
    spread.add_argument("--threads", type=int)
    spread.add_argument("--first-batch", action="store_true")
    layers = commands.add_parser("layers")
    layers.add_argument("old")
    layers.add_argument("record")
    layers.add_argument("plan")
    layers.add_argument("out")
    layers.add_argument("--nudges", type=int, required=True)
    layers.add_argument("--threads", type=int)
    save = commands.add_parser("save")
    save.add_argument("old")
    save.add_argument("prefix")
    save.add_argument("--steps", type=int, required=True)
    for command in (record, spread, layers, save):
        command.add_argument("--from-checkpoint")
        command.add_argument("--script", action="store_true")
        command.add_argument("--script-argv", default="[]")
        command.add_argument("--train-op")
        command.add_argument("--outputs")
        command.add_argument("--dtype")
        command.add_argument("--random", default="aligned")
        command.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def run(args) -> None:
    import tensorflow as tf

    from backprop_suite.migration.tf1.old_program import from_arguments
    from backprop_suite.migration.tf1.stand_ins import stand_ins

    tf.compat.v1.disable_v2_behavior()
    old = from_arguments(args.old, args)
    with stand_ins():
        job(args, old)


def job(args, old) -> None:
    if args.command == "record":
        from backprop_suite.migration.tf1.recording import record_tf1

        record = record_tf1(
            old, args.steps, args.dtype, args.random, args.seed, args.data, args.keep, args.listed
        )
        record.save(args.out)
    elif args.command == "save":
        from backprop_suite.migration.tf1.save import save_tf1

        save_tf1(old, args.steps, args.prefix, args.seed, args.random)
    elif args.command == "layers":
        from backprop_suite.migration.record import Record
        from backprop_suite.migration.tf1.layer_runs import layer_values, save_layer_values

        with open(args.plan) as file:
            plan = json.load(file)
        found = layer_values(
            old,
            Record.load(args.record),
            plan,
            args.dtype,
            args.random,
            args.seed,
            args.nudges,
            args.threads,
        )
        save_layer_values(args.out, *found)
    else:
        from backprop_suite.migration.record import Record
        from backprop_suite.migration.tf1.reruns import save_spreads, spreads

        record = Record.load(args.record)
        found = spreads(
            old,
            record,
            args.dtype,
            args.random,
            args.seed,
            args.nudges,
            args.threads,
            args.first_batch,
        )
        save_spreads(args.out, found)


def failure(error: Exception, program: str) -> str:
    """One line of what went wrong: a TensorFlow op's error with its cause lines."""
    from tensorflow.errors import OpError

    from backprop_suite.migration.tf1.op_errors import cause

    if isinstance(error, OpError):
        return cause(error, program)
    return f"{type(error).__name__}: {error}"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the TF1 program itself failed while it ran
        print(
            f"error: {args.old}: the TF1 program failed: {failure(error, args.old)}",
            file=sys.stderr,
        )
        return 2
    return 0


def serve() -> int:
    """Jobs from stdin, one JSON line each (``argv`` and ``cwd``); for each, one JSON line on
    stdout: its exit status and what it wrote to stderr. What a job prints to stdout goes to
    stderr, so that it cannot garble the answers. A job that leaves threads running (a script's
    queue runners, a Supervisor's services) is the process's last: those threads still use the
    job's sessions, and the next job gets a fresh process."""
    import threading

    import tensorflow  # noqa: F401  once, for every job

    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = log = sys.stderr
    threads = threading.active_count()
    for line in sys.stdin:
        job = json.loads(line)
        os.chdir(job["cwd"])
        written = io.StringIO()
        with contextlib.redirect_stderr(written), contextlib.redirect_stdout(log):
            try:
                status = main(job["argv"])
            except SystemExit as exit_:  # argparse, or a program that exits
                status = exit_.code if isinstance(exit_.code, int) else 1
        last = threading.active_count() > threads
        reply = {"status": status, "stderr": written.getvalue(), "last": last}
        answers.write(json.dumps(reply) + "\n")
        if last:
            os._exit(0)  # the left threads are not joined: they may wait on a closed session
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["serve"] else main(sys.argv[1:]))
