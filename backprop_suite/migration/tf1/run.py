"""``run_tf1``: the old program recorded in a child process of its own (``children.migration``),
because a TF1 program that uses ``tf.compat.v1.layers`` or ``nn.rnn_cell`` needs legacy Keras
(``tf_keras`` with ``TF_USE_LEGACY_KERAS=1``), which switches ``tf.keras`` for the whole process,
and its port needs Keras 3. The child inherits the parent's environment, so thread counts and
oneDNN settings match."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from backprop_suite.migration.processes import child_environment, run_job
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.old_program import OldProgram, old_program


def died(old: OldProgram, done) -> str:
    """What the check says of a TF1 process that ended without an answer: how it ended and the
    end of what it wrote."""
    status = done.returncode
    how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
    last = done.last_line()
    said = f"its last line: {last}" if last else "it wrote nothing"
    return f"{old.path}: the TF1 process {how} while it ran the program: {said}"


def run_tf1(
    old: OldProgram | str,
    steps: int,
    dtype: str | None = None,
    random: str = "aligned",
    seed: int = 0,
    data: str | None = None,
    keep: Iterable[str] = (),
    listed: bool = False,
) -> Record:
    """``record_tf1`` in a child process (a warm one: ``processes``). Bad input there (status 2)
    is a ``ValueError`` here with the child's ``error:`` line; any other failure a
    ``RuntimeError`` with its stderr. A path is a script or the contract as it reads
    (``old_program``)."""
    old = old if isinstance(old, OldProgram) else old_program(old)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "tf1.npz"
        command = ["record", str(old.path), str(out), *old.arguments()]
        command += ["--steps", str(steps), "--random", random, "--seed", str(seed)]
        command += ["--dtype", dtype] if dtype else []
        command += ["--data", str(data)] if data else []
        command += [f"--keep={name}" for name in keep]
        command += ["--listed"] if listed else []
        done = run_job(command, child_environment())
        if done.returncode == 2:
            raise ValueError(done.error())
        if done.returncode != 0:
            raise RuntimeError(died(old, done))
        return Record.load(out)
