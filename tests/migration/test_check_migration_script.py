"""scripts/check_migration.py as a user runs it: the documented pair, the JSON, wrong ports, the
data file, the random modes, and bad input (exit 2, one ``error:`` line, no traceback)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from script_runner import load, one_error_line, run, run_in_process

from backprop_suite.migration import Options, check_port, run_tf1

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "examples" / "migrations"
WRONG = Path(__file__).resolve().parents[1] / "fixtures" / "wrong_ports"
SEED_OLD, SEED_NEW = GALLERY / "seed_xor" / "tf1.py", GALLERY / "seed_xor" / "keras3.py"


def documented_pair() -> tuple[str, str, str]:
    """OLD.py, NEW.py and the printed report of "Check your own migration" in
    docs/check_migration.md."""
    text = (ROOT / "docs" / "check_migration.md").read_text()
    section = text.split("## Check your own migration")[1].split("\n## ")[0]
    old, new = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    printed = re.findall(r"```\n(weights .*?)```", section, flags=re.S)[0]
    return old, new, printed


@pytest.mark.slow
def test_the_documented_pair_agrees_in_a_real_process_as_printed(tmp_path):
    old, new, printed = documented_pair()
    (tmp_path / "OLD.py").write_text(old)
    (tmp_path / "NEW.py").write_text(new)
    command = "python scripts/check_migration.py OLD.py NEW.py --steps 20 --outputs add"
    assert f"`{command}`" in (ROOT / "docs" / "check_migration.md").read_text()
    arguments = command.split()[2:]
    done = run("check_migration", *arguments, "--json", "report.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    verdicts = [line.split(":")[0] for line in done.stdout.splitlines()]
    assert verdicts == [line.split(":")[0] for line in printed.splitlines()]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["agrees"] is True
    assert [s["stage"] for s in report["stages"]] == [
        "weights",
        "forward",
        "loss",
        "gradients",
        "one step",
        "many steps",
    ]
    assert report["settings"]["steps"] == 20 and report["settings"]["dtype"] == "float32"


@pytest.mark.slow
def test_a_wrong_port_exits_1_naming_the_stage_and_the_cause_and_json_says_the_same():
    script = load("check_migration")
    done = run_in_process(script, SEED_OLD, WRONG / "seed_xor_mse.py", "--steps", 2, "--json", "-")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    failed = report["stages"][-1]
    assert report["agrees"] is False and failed["stage"] == "loss" and failed["agrees"] is False
    assert "1/4 of TF1's" in failed["hint"]
    assert report["layers"]["summary"].startswith("no layer's"), report["layers"]


@pytest.mark.slow
def test_batches_from_a_data_file_give_the_same_check(tmp_path):
    x = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    np.savez(tmp_path / "xor.npz", x=x[None], y=y[None])
    done = run_in_process(
        load("check_migration"), SEED_OLD, SEED_NEW, "--data", tmp_path / "xor.npz", "--steps", 3
    )
    assert done.returncode == 0, done.stdout + done.stderr
    np.savez(tmp_path / "wrong.npz", x=x[None], labels=y[None])
    line = one_error_line(
        run_in_process(
            load("check_migration"), SEED_OLD, SEED_NEW, "--data", tmp_path / "wrong.npz"
        )
    )
    assert "['labels', 'x']" in line and "['x', 'y']" in line


@pytest.mark.slow
def test_dropout_as_is_fails_a_correct_port_and_aligned_or_off_pass_it():
    old, new = str(GALLERY / "conv_net" / "tf1.py"), str(GALLERY / "conv_net" / "keras3.py")
    for mode, agrees in (("as-is", False), ("off", True)):
        report = check_port(run_tf1(old, 2, random=mode), new, Options(steps=2, random=mode))
        assert report.agrees is agrees, f"{mode}:\n{report.text()}"
        if not agrees:
            assert report.failed.stage == "forward"
            first = next(row for row in report.layers.rows if row.name == report.layers.first)
            assert any("dropout" in name for name in first.layers), report.text()


@pytest.mark.parametrize(
    "args, words",
    [
        (["missing.py", SEED_NEW], "missing.py: no such file"),
        ([SEED_OLD, "missing.py"], "missing.py: no such file"),
        ([SEED_OLD, Path(__file__)], "defines no function tf2_program()"),
        ([SEED_OLD, SEED_NEW, "--steps", 0], "steps must be a whole number of at least 1"),
        ([SEED_OLD, SEED_NEW, "--rtol", -1], "rtol must be a number of at least 0"),
        ([SEED_OLD, SEED_NEW, "--dtype", "float16"], "dtype must be one of float32, float64"),
        ([SEED_OLD, SEED_NEW, "--random", "sometimes"], "invalid choice"),
        ([SEED_OLD, SEED_NEW, "--json", ROOT / "tests"], "names a folder, not a file"),
    ],
)
def test_bad_input_before_any_work_is_one_error_line(args, words):
    assert words in one_error_line(run_in_process(load("check_migration"), *args))


@pytest.mark.slow
def test_bad_programs_are_one_error_line_naming_the_file(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def tf1_program(:\n")
    line = one_error_line(run_in_process(load("check_migration"), broken, SEED_NEW))
    assert "broken.py does not import: SyntaxError" in line
    line = one_error_line(
        run_in_process(load("check_migration"), SEED_OLD, GALLERY / "mlp_adam" / "keras3.py")
    )
    assert "WEIGHT_MAP names 'Variable'" in line and "TF1: m1 [2, 3]" in line


DIVERGING_OLD = """
import numpy as np
import tensorflow.compat.v1 as tf


def tf1_program():
    x = tf.placeholder(tf.float32, [None, 1])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.ones([1, 1]))
    pred = tf.matmul(x, w)
    loss = tf.reduce_sum(tf.square(pred - y))
    train_op = tf.train.GradientDescentOptimizer(10.0).minimize(loss)
    return {"feeds": {"x": x, "y": y}, "loss": loss, "train_op": train_op, "outputs": pred}


def batches():
    while True:
        yield {"x": np.array([[1.0], [2.0]]), "y": np.array([[0.0], [1.0]])}
"""

DIVERGING_NEW = """
import keras


def tf2_program():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    loss = keras.losses.MeanSquaredError(reduction="sum")
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss=loss)
    return {"model": model}
"""


@pytest.mark.slow
def test_a_run_that_diverges_is_said_to_diverge(tmp_path):
    (tmp_path / "OLD.py").write_text(DIVERGING_OLD)
    (tmp_path / "NEW.py").write_text(DIVERGING_NEW)
    done = run_in_process(
        load("check_migration"), tmp_path / "OLD.py", tmp_path / "NEW.py", "--steps", 20
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TF1's loss is not finite from step 11: the run diverges" in done.stdout
