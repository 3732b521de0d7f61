"""A TF1 program trained in the child and saved as a ``tf.train.Saver`` checkpoint
(``run_save``): the tests' and the conversion's own checkpoints."""

from __future__ import annotations

from pathlib import Path

from backprop_suite.migration.processes import run_job
from backprop_suite.migration.tf1.old_program import OldProgram


def save_tf1(old: OldProgram, steps: int, prefix: str, seed: int, random: str) -> str:
    """In the child: the program trained ``steps`` steps on its batches from its start, then
    every variable saved by a ``tf.train.Saver`` at ``prefix``; the prefix written."""
    import tensorflow as tf

    from backprop_suite.migration.random_ops import random_mode
    from backprop_suite.migration.tf1.recording import taken

    v1 = tf.compat.v1
    with random_mode(random):
        program, batches, watch = taken(old, steps, None, seed, None, ())
        kinds = watch.kinds if program.turns else None
        feeds = program.feeds(batches, f"{old.path}'s batches", kinds)
        with program.graph.as_default(), v1.Session(config=program.config) as session:
            program.initialize(session)
            for _ in program.train(session, feeds, kinds):
                pass
            Path(prefix).parent.mkdir(parents=True, exist_ok=True)
            return v1.train.Saver().save(session, prefix)


def run_save(old: OldProgram, steps: int, prefix: str, seed: int = 0, random: str = "aligned"):
    """``save_tf1`` in the warm child process; a ``ValueError`` with its error line."""
    from backprop_suite.migration.processes import child_environment

    command = ["save", str(old.path), str(prefix), *old.arguments()]
    command += ["--steps", str(steps), "--random", random, "--seed", str(seed)]
    done = run_job(command, child_environment())
    if done.returncode != 0:
        raise ValueError(done.error())
    return prefix
