"""A script that resumes from its own checkpoint (``tests/fixtures/scripts/resume_checkpoint``):
the check starts the port from everything the script restored (the weights, Adam's slots and
beta powers, the global step), never from a state the port did not get; where the port's
optimizer cannot take that state the check is refused; and it writes no checkpoint of the
script's."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from backprop_suite.migration import Options, check_port, run_tf1
from backprop_suite.migration.tf1.old_program import old_program
from backprop_suite.migration.tf1.save import run_save

RESUME = Path(__file__).resolve().parents[1] / "fixtures" / "scripts" / "resume_checkpoint"


@pytest.mark.slow
def test_a_resumed_script_starts_the_port_from_what_it_restored(tmp_path):
    import tensorflow as tf

    old = old_program(RESUME / "tf1.py", argv=["--checkpoint_dir", str(tmp_path)])
    prefix = run_save(old, 12, str(tmp_path / "model.ckpt-12"))
    written = sorted(p.name for p in tmp_path.iterdir())
    saved = tf.train.load_checkpoint(prefix)
    record = run_tf1(old, 4)
    assert record.meta["restored"]["checkpoint"] == prefix
    for name, value in zip(record.names, record.initial):
        assert np.array_equal(value, saved.get_tensor(name))
    for key in ("w1/Adam", "w1/Adam_1", "beta1_power", "beta2_power", "global_step"):
        assert np.array_equal(record.restored[key], saved.get_tensor(key))
    assert int(record.restored["global_step"]) == 12

    report = check_port(record, str(RESUME / "new.py"), Options(steps=4))
    assert report.agrees, report.text()
    carried = report.settings["optimizer_state"]["carried"]
    assert {"w1/Adam", "w1/Adam_1", "b2/Adam_1"} <= set(carried)
    other_rate = str(RESUME / "rate_from_another_script.py")
    wrong = check_port(record, other_rate, Options(steps=4, envelope="off", layers="off"))
    assert wrong.failed.stage == "one step"
    ratio = re.search(r"every update is ([0-9.e-]+)x TF1's: the learning rate", wrong.failed.hint)
    assert ratio is not None and abs(float(ratio[1]) - 0.1) < 1e-5  # 0.001 against 0.01
    refused = r"restored .*model.ckpt-12 before its first training step"
    with pytest.raises(ValueError, match=refused):
        check_port(record, str(RESUME / "sgd_cannot_resume.py"), Options(steps=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == written  # the script saved nothing


SESSION_LOOPS = {
    "monitored": """
with tf.train.MonitoredTrainingSession(checkpoint_dir=FOLDER, save_checkpoint_steps=5) as sess:
    while not sess.should_stop():
        features, targets = batch()
        sess.run(train_op, feed_dict={x: features, y: targets})
""",
    "supervisor": """
supervisor = tf.train.Supervisor(logdir=FOLDER, save_model_secs=0, summary_op=None)
with supervisor.managed_session() as sess:
    for _ in range(50):
        features, targets = batch()
        sess.run(train_op, feed_dict={x: features, y: targets})
""",
}

MANAGED = """
import sys

import numpy as np
import tensorflow as tf

FOLDER = sys.argv[1]
rng = np.random.RandomState(0)
x = tf.placeholder(tf.float32, [None, 2], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
w = tf.get_variable("w", [2, 1], initializer=tf.truncated_normal_initializer(stddev=0.5))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
global_step = tf.train.get_or_create_global_step()
train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=global_step)


def batch():
    features = rng.uniform(-1, 1, (8, 2))
    return features, features @ [[2.0], [-1.0]]

"""

PORT = """
import keras

from keras_impl.optimizers import TF1Adam

WEIGHT_MAP = {"w": "net/out/kernel"}


def tf2_program():
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(1, use_bias=False, name="out")], name="net"
    )
    model.compile(optimizer=TF1Adam(0.05, 0.9, 0.999, 1e-8), loss="mse")
    return {"model": model, "inputs": "x", "targets": "y"}
"""


@pytest.mark.slow
@pytest.mark.parametrize("loop", SESSION_LOOPS)
def test_a_managed_session_that_restores_its_checkpoint_dir_starts_the_port_from_it(tmp_path, loop):
    """A ``MonitoredTrainingSession`` and a ``Supervisor`` restore the latest checkpoint of
    their folder themselves; the port starts from it, Adam's state and the step included."""
    import tensorflow as tf

    script, port = tmp_path / "managed.py", tmp_path / "port.py"
    script.write_text(MANAGED + SESSION_LOOPS[loop])
    port.write_text(PORT)
    folder = tmp_path / "run"
    old = old_program(script, argv=[str(folder)])
    prefix = run_save(old, 6, str(folder / "model.ckpt-6"))
    record = run_tf1(old, 3)
    assert record.meta["restored"]["checkpoint"] == prefix
    saved = tf.train.load_checkpoint(prefix)
    assert np.array_equal(record.initial[0], saved.get_tensor("w"))
    assert np.array_equal(record.restored["w/Adam_1"], saved.get_tensor("w/Adam_1"))
    assert int(record.restored["global_step"]) == 6
    report = check_port(record, str(port), Options(steps=3))
    assert report.agrees, report.text()
    assert "w/Adam" in report.settings["optimizer_state"]["carried"]
