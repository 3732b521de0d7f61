"""Script mode: TF1 scripts checked as they are written (``tests/fixtures/scripts``), each of a
kind that real TF1 programs are: a module-level graph with a Session loop and an evaluation
after it, a ``tf.layers`` program with argparse flags, and ``main()`` under ``tf.app.run`` with
flags, a step counter and a staircase decay. Each has a correct port (exit 0) and one with a
classic mistake (exit 1 at the stage where that mistake first shows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from script_runner import load, one_error_line, run_in_process

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
check_migration = load("check_migration")

# (script folder, its output tensor, the wrong port, the stage that fails)
KINDS = [
    ("module_level", "add_1", "keras3_relu.py", "forward"),
    ("layers", "dense_2/BiasAdd", "keras3_adam_defaults.py", "one step"),
    ("app_run", "output/add", "keras3_smooth_decay.py", "many steps"),
]


def check(folder: str, port: str, *args: object):
    old = SCRIPTS / folder / "tf1.py"
    return run_in_process(check_migration, old, SCRIPTS / folder / port, "--json", "-", *args)


@pytest.mark.slow
@pytest.mark.parametrize("folder, outputs, wrong, stage", KINDS)
def test_an_unmodified_script_agrees_with_its_port_and_a_wrong_port_fails_at_its_stage(
    folder, outputs, wrong, stage
):
    from backprop_suite.migration import Options, check_port, run_tf1
    from backprop_suite.migration.port.loading import port_program
    from backprop_suite.migration.tf1.old_program import old_program

    keep = list(getattr(port_program(str(SCRIPTS / folder / "keras3.py"))[0], "WEIGHT_MAP", {}))
    record = run_tf1(old_program(SCRIPTS / folder / "tf1.py", outputs=outputs), 4, keep=keep)
    report = check_port(record, str(SCRIPTS / folder / "keras3.py"), Options(steps=4))
    assert [s.agrees for s in report.stages] == [True] * 6, report.text()
    assert report.settings["steps"] == 4
    # a mistake fails far outside the tolerance: no envelope to measure
    wrong = check_port(
        record, str(SCRIPTS / folder / wrong), Options(steps=4, envelope="off", layers="off")
    )
    assert [s.stage for s in wrong.stages if s.agrees is False] == [stage], wrong.text()


@pytest.mark.slow
def test_the_batches_are_what_the_script_fed_and_its_output_is_kept_apart():
    """The script's own NumPy draws, made again here: its data and its first mini-batch. The
    script is stopped after the steps checked, so its evaluation never prints."""
    from backprop_suite.migration import run_tf1

    record = run_tf1(str(SCRIPTS / "module_level" / "tf1.py"), 3)
    rng = np.random.RandomState(0)
    points = rng.uniform(-1, 1, (512, 2)).astype(np.float32)
    first = rng.choice(384, 32, replace=False)
    second = rng.choice(384, 32, replace=False)
    assert np.array_equal(record.batches[0]["Placeholder"], points[first])
    assert np.array_equal(record.batches[1]["Placeholder"], points[second])
    assert sorted(record.batches[0]) == ["Placeholder", "Placeholder_1"]
    printed = [line for line in record.meta["printed"].splitlines() if line.startswith("step")]
    assert printed == [f"step 0, training loss {record.losses[0]:g}"]
    done = check("module_level", "keras3.py", "--steps", 2)
    assert done.returncode == 0 and "training loss" not in done.stdout + done.stderr
    done = check("module_level", "keras3.py", "--steps", 2, "--verbose")
    assert "step 0, training loss" in done.stderr and "test accuracy" not in done.stderr


@pytest.mark.slow
def test_list_names_what_a_port_must_match_and_arguments_after_two_dashes_reach_the_script():
    """The names are the script's own (its ``name=`` arguments, ``tf.layers``' scopes); the
    fed shape follows ``--batch_size`` given to the script's argparse, and to ``tf.app.flags``
    in a script run twice in one process (its flags are removed after each run)."""
    done = run_in_process(check_migration, SCRIPTS / "layers" / "tf1.py", "--list")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for name in ("features", "labels", "training", "dense/kernel", "dense_2/bias"):
        assert f"  {name} " in text
    assert "fed [24, 8]" in text and "dense_2/BiasAdd" in text
    for folder, size, width in (("layers", 12, 8), ("app_run", 5, 1), ("app_run", 7, 1)):
        old = SCRIPTS / folder / "tf1.py"
        done = run_in_process(check_migration, old, "--list", "--", "--batch_size", size)
        assert done.returncode == 0, done.stderr
        assert f"fed [{size}, {width}]" in done.stdout
    assert "  global_step" in done.stdout  # a counter: not trained, the port may compare it


TWO_TRAIN_OPS = """
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 2], name="x")
with tf.variable_scope("encoder"):
    code = tf.layers.dense(x, 3, activation=tf.nn.tanh)
with tf.variable_scope("head"):
    out = tf.layers.dense(code, 1)
a_loss = tf.reduce_mean(tf.square(code))
b_loss = tf.reduce_mean(tf.square(out - 1.0), name="head_loss")
encoder = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "encoder")
head = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "head")
a_step = tf.train.GradientDescentOptimizer(0.1).minimize(a_loss, var_list=encoder, name="a_step")
grads, _ = tf.clip_by_global_norm(tf.gradients(b_loss, head), 1.0)
b_step = tf.train.AdamOptimizer(0.01).apply_gradients(zip(grads, head), name="b_step")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(4):
        try:
            sess.run(a_step, {x: np.ones((4, 2))})
            sess.run(b_step, {x: np.ones((4, 2)) * i})
        except Exception:
            pass
"""


@pytest.mark.slow
def test_several_train_ops_are_listed_in_turn_and_one_is_chosen_by_name(tmp_path):
    """``--list`` names both in the order the script runs them, with their losses (one given
    to ``tf.gradients`` and clipped); a port with one train step is refused with both named;
    ``--train-op`` picks one, whose variables are the trained ones. The script's
    ``except Exception`` does not swallow the check's stop."""
    script = tmp_path / "two.py"
    script.write_text(TWO_TRAIN_OPS)
    listed = run_in_process(check_migration, script, "--list")
    assert listed.returncode == 0, listed.stderr
    turns = listed.stdout.splitlines()[0]
    assert "2 train ops in turn, 'a_step' (loss 'Mean'), 'b_step' (loss 'head_loss')" in turns
    port = SCRIPTS / "module_level" / "keras3.py"
    line = one_error_line(run_in_process(check_migration, script, port))
    assert "trains 2 train ops in turn" in line and "--train-op" in line and "'b_step'" in line
    done = run_in_process(check_migration, script, "--list", "--train-op", "b_step")
    assert done.returncode == 0, done.stderr
    assert "minimizing 'head_loss'" in done.stdout
    trained = done.stdout.split("trained (")[1].split("\n", 1)[1].split("what the loss")[0]
    assert [line.split()[0] for line in trained.splitlines()] == [
        "head/dense/kernel",
        "head/dense/bias",
    ]


RAISES = """
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 1])
w = tf.Variable(tf.ones([1, 1]))
loss = tf.reduce_sum(tf.matmul(x, w))
step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step, {x: [[1.0, 2.0]]})
"""

NEVER_TRAINS = """
import tensorflow as tf

w = tf.Variable(1.0)
step = tf.train.GradientDescentOptimizer(0.1).minimize(w * w)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(w))
"""

FEEDS_NOTHING = """
import tensorflow as tf

w = tf.Variable(1.0)
step = tf.train.GradientDescentOptimizer(0.1).minimize(w * w)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "source, words",
    [
        (RAISES, "raised at training step 1: ValueError: Cannot feed value of shape (1, 2)"),
        (RAISES, "(line 10 of script.py)"),
        (RAISES.replace("tf.ones([1, 1])", "tf.ones([2, 1])"), "(line 6 of script.py)"),
        (NEVER_TRAINS, "ended without a training step"),
        (FEEDS_NOTHING, "line 8: the training step reads no input: it feeds nothing"),
        ("raise SystemExit(3)\n", "exited with status 3 without a training step"),
    ],
)
def test_a_script_that_cannot_be_checked_is_one_error_line(tmp_path, source, words):
    script = tmp_path / "script.py"
    script.write_text(source)
    port = SCRIPTS / "module_level" / "keras3.py"
    assert words in one_error_line(run_in_process(check_migration, script, port))


@pytest.mark.parametrize(
    "args, words",
    [
        (["--train-op", "Adam"], "--train-op apply to a script"),
        (["--", "--flag"], "arguments after -- apply to a script"),
    ],
)
def test_script_options_with_a_contract_program_are_one_error_line(args, words):
    gallery = Path(__file__).resolve().parents[2] / "examples" / "migrations" / "seed_xor"
    done = run_in_process(check_migration, gallery / "tf1.py", gallery / "keras3.py", *args)
    assert words in one_error_line(done)


@pytest.mark.slow
def test_a_script_takes_no_dtype_and_an_unknown_outputs_name_is_one_error_line():
    line = one_error_line(check("module_level", "keras3.py", "--dtype", "float64"))
    assert "is a script, which builds its graph in its own dtype" in line
    line = one_error_line(check("module_level", "keras3.py", "--outputs", "logits"))
    assert "--outputs logits: tf1.py's graph has no tensor of that name" in line
