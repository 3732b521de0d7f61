"""Hostile but plausible command lines: sizes that cannot fit, a reader that closes stdout, bad
files given to the migration check. Each ends in one ``error:`` line (exit 2) or quietly, before
any work. Ctrl-C: tests/cli/test_interrupts.py; drawn at random: tests/cli/test_script_fuzz.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from script_runner import SCRIPTS, load, one_error_line, run_in_process, user_environment

from backprop_suite.cli.script import STDOUT_CLOSED

GALLERY = Path(__file__).resolve().parents[2] / "examples" / "migrations" / "seed_xor"
OLD, NEW = GALLERY / "tf1.py", GALLERY / "keras3.py"
HUGE = 10**22


@pytest.mark.parametrize(
    "script, args, names",
    [
        ("compare", ["--steps", HUGE], f"steps {HUGE} (one loss per step)"),
        ("compare", ["--steps", 10**12], "steps 1000000000000 (one loss per step)"),
        ("compare", ["--steps", 10**9, "--batch-size", 2], "steps 1000000000 of 2 rows each"),
        ("compare", ["--layers", "2,10000000000,1"], "layers 2,10000000000,1"),
        ("sweep", ["--seeds", "0:1000000000000"], "--seeds 0:1000000000000: the sweep of"),
        ("sweep", ["--seeds", "0:100000000"], "--seeds 0:100000000: the sweep of 100,000,000"),
        ("bench", ["--repeats", 10**12], "--repeats 1000000000000"),
        ("check_migration", [OLD, NEW, "--steps", 10**14], "steps 100000000000000"),
        ("multi_worker", ["--workers", 1000, "--out", "w"], "--workers 1000"),
    ],
)
def test_a_size_that_cannot_fit_is_refused_before_any_allocation(
    script, args, names, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(run_in_process(load(script), *args))
    assert line.startswith(f"error: {names}") and "would take at least" in line, line
    assert "of memory; this machine has" in line and "available" in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("script", ["compare", "explain"])
def test_a_closed_stdout_ends_the_script_quietly(script):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the script writes its first line
    args = {"compare": ["--impl", "manual", "--steps", "5"]}.get(script, [])
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / f"{script}.py"), *args],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env=user_environment(),
    )
    os.close(write_end)
    assert (done.returncode, done.stderr) == (STDOUT_CLOSED, "")


def test_check_migration_refuses_bad_input_before_importing_tensorflow(tmp_path):
    (tmp_path / "data.npz").write_bytes(np.random.default_rng(0).bytes(1000))
    program = (
        "import sys; from backprop_suite.cli import check_migration\n"
        f"status = check_migration.main([{str(OLD)!r}, {str(NEW)!r}, '--data', 'data.npz'])\n"
        "print(status, 'tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.stdout.split() == ["2", "False"], done.stdout + done.stderr
    assert "--data file data.npz is not an .npz archive of plain arrays" in done.stderr


def test_bad_data_for_the_migration_check_names_the_batch_array_and_index(tmp_path):
    x = np.tile(np.array([[0, 0], [1, 1], [1, 0], [0, 1]], np.float32), (3, 1, 1))
    y = np.tile(np.array([[0], [0], [1], [1]], np.float32), (3, 1, 1))
    x[1, 2, 0] = np.inf
    np.savez(tmp_path / "inf.npz", x=x, y=y)
    np.savez(tmp_path / "wide.npz", x=np.ones((3, 4, 5), np.float32), y=y)
    script = load("check_migration")
    line = one_error_line(run_in_process(script, OLD, NEW, "--data", tmp_path / "inf.npz"))
    assert "batch 1, 'x' contains NaN or inf (inf at index (2, 0))" in line
    line = one_error_line(run_in_process(script, OLD, NEW, "--data", tmp_path / "wide.npz"))
    assert line.endswith(
        "batch 0, 'x' has shape (4, 5), but the feed 'x' (x0:0) takes (None, 2)"
    ), line
    assert f"--data {tmp_path / 'wide.npz'}" in line


NAN_BATCHES = """
import numpy as np
import tensorflow.compat.v1 as tf


def tf1_program():
    x = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.ones([1, 1]))
    loss = tf.reduce_sum(tf.matmul(x, w))
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return {"feeds": {"x": x}, "loss": loss, "train_op": train_op}


def batches():
    yield {"x": np.array([[1.0]])}
    yield {"x": np.array([[1.0], [np.nan]])}
"""


@pytest.mark.slow
def test_nan_from_batches_is_refused_before_any_training(tmp_path):
    (tmp_path / "OLD.py").write_text(NAN_BATCHES)
    done = run_in_process(load("check_migration"), tmp_path / "OLD.py", NEW, "--steps", 3)
    line = one_error_line(done)
    assert "OLD.py's batches(): batch 1, 'x' contains NaN or inf (nan at index (1, 0))" in line


@pytest.mark.parametrize("which", ["old", "new"])
def test_a_folder_or_random_bytes_as_a_program_is_named_as_such(which, tmp_path):
    (tmp_path / "random.py").write_bytes(np.random.default_rng(1).bytes(1000) + b"\0")
    script = load("check_migration")
    for given, words in (
        (tmp_path, "is a directory, not a Python file"),
        (tmp_path / "random.py", "is not Python source"),
    ):
        args = [given, NEW] if which == "old" else [OLD, given]
        assert words in one_error_line(run_in_process(script, *args))
