"""TF1 scripts of the kinds the field tests brought, each of which the check once got wrong:
slim's ``create_train_op`` (its loss carries the update ops, so reading it moved BatchNorm's
statistics), a feedable iterator's string handle (a feed that is no number),
``tf.contrib.layers.optimize_loss`` (tf_slim tests against classes TensorFlow 2.21 moved), and a
queue's or an initializable iterator's batch straight into a convolution (Grappler folded the
batch's shape into a constant that still ran the dequeue: the replay hung)."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_suite.migration import run_tf1
from backprop_suite.migration.tf1.old_program import old_program

CREATE_TRAIN_OP = """
import numpy as np
import tensorflow as tf
import tensorflow.contrib.slim as slim

x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
normalizer = {"is_training": True, "decay": 0.9, "updates_collections": tf.GraphKeys.UPDATE_OPS}
hidden = slim.fully_connected(x, 4, normalizer_fn=slim.batch_norm, normalizer_params=normalizer)
prediction = slim.fully_connected(hidden, 1, activation_fn=None)
tf.losses.mean_squared_error(y, prediction)
optimizer = tf.train.GradientDescentOptimizer(0.1)
train_op = slim.learning.create_train_op(tf.losses.get_total_loss(), optimizer)
rng = np.random.RandomState(0)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(100):
        features = rng.normal(size=(8, 3))
        sess.run(train_op, {x: features, y: features[:, :1]})
"""

STRING_HANDLE = """
import numpy as np
import tensorflow as tf

points = np.arange(60, dtype=np.float32).reshape(20, 3) / 60
train = tf.data.Dataset.from_tensor_slices((points, points[:, :1])).batch(4).repeat()
valid = tf.data.Dataset.from_tensor_slices((points, points[:, :1])).batch(20)
handle = tf.placeholder(tf.string, [])
iterator = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
x, y = iterator.get_next()
w = tf.Variable(tf.zeros([3, 1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    train_handle = sess.run(train.make_one_shot_iterator().string_handle())
    for step in range(50):
        sess.run(train_op, {handle: train_handle})
"""

OPTIMIZE_LOSS = """
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 3], name="x")
y = tf.placeholder(tf.float32, [None, 1], name="y")
prediction = tf.contrib.layers.fully_connected(x, 1, activation_fn=None)
loss = tf.losses.mean_squared_error(y, prediction)
step = tf.train.get_or_create_global_step()
train_op = tf.contrib.layers.optimize_loss(loss, step, learning_rate=0.1, optimizer="SGD")
rng = np.random.RandomState(1)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(100):
        features = rng.normal(size=(8, 3))
        sess.run(train_op, {x: features, y: features.sum(axis=1, keepdims=True)})
"""


def recorded(tmp_path, source: str, steps: int, **options):
    script = tmp_path / "script.py"
    script.write_text(source)
    return run_tf1(old_program(script), steps, **options)


@pytest.mark.slow
def test_reading_a_loss_that_carries_the_update_ops_leaves_the_moving_statistics_alone(
    tmp_path,
):
    """After one step, BatchNorm's moving mean is 0.1 times the first batch's mean of
    ``x @ weights`` (decay 0.9 from zero), once: computed here in NumPy."""
    mean = "fully_connected/BatchNorm/moving_mean"
    record = recorded(tmp_path, CREATE_TRAIN_OP, 1, keep=[mean])
    weights = record.initial[record.names.index("fully_connected/weights")]
    batch_mean = (record.batches[0]["x"] @ weights).mean(axis=0)
    after = record.state_after[0][record.state_names.index(mean)]
    np.testing.assert_allclose(after, 0.1 * batch_mean, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_a_feedable_iterators_string_handle_is_no_part_of_the_batch(tmp_path):
    """The steps read the training set's rows four at a time; the handle that chose the
    iterator is not a batch entry, and the replay (which made the record) needs none."""
    record = recorded(tmp_path, STRING_HANDLE, 3)
    points = np.arange(60, dtype=np.float32).reshape(20, 3) / 60
    for step, batch in enumerate(record.batches):
        assert sorted(batch) == ["IteratorGetNext", "IteratorGetNext:1"]
        np.testing.assert_array_equal(batch["IteratorGetNext"], points[4 * step : 4 * step + 4])


@pytest.mark.slow
def test_optimize_loss_from_tf_contrib_layers_trains_by_its_sgd(tmp_path):
    """Its SGD moves each weight by 0.1 times its gradient on the first batch."""
    record = recorded(tmp_path, OPTIMIZE_LOSS, 1)
    for before, grad, after in zip(record.initial, record.grads, record.after[0]):
        np.testing.assert_allclose(after, before - 0.1 * grad, rtol=1e-6, atol=1e-7)


CONV_ON_INPUT = """
import numpy as np
import tensorflow as tf

images = np.random.RandomState(0).rand(200, 8, 8, 3).astype(np.float32)
labels = np.random.RandomState(1).randint(0, 4, 200).astype(np.int32)
{input}
w = tf.get_variable("w", [3, 3, 3, 4])
logits = tf.reduce_mean(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), axis=[1, 2])
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    {start}
    for step in range(50):
        sess.run(train_op)
"""
INPUTS = {
    "queue": (
        "x1, y1 = tf.train.slice_input_producer([images, labels], shuffle=True, seed=3)\n"
        "x, y = tf.train.shuffle_batch([x1, y1], 8, capacity=100, min_after_dequeue=50, seed=4)",
        "tf.train.start_queue_runners(sess=sess)",
    ),
    "iterator": (
        "data = tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(8)\n"
        "iterator = data.make_initializable_iterator()\n"
        "x, y = iterator.get_next()",
        "sess.run(iterator.initializer)",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("source", INPUTS)
def test_a_queue_or_iterator_batch_straight_into_a_convolution_is_replayed(tmp_path, source):
    """The replay feeds the batch and runs no dequeue: plain SGD moves the kernel by 0.1
    times its gradient on the first batch, which is 8 of the script's images."""
    given, start = INPUTS[source]
    record = recorded(tmp_path, CONV_ON_INPUT.format(input=given, start=start), 2)
    np.testing.assert_allclose(
        record.after[0][0], record.initial[0] - 0.1 * record.grads[0], rtol=1e-5, atol=1e-7
    )
    images = np.random.RandomState(0).rand(200, 8, 8, 3).astype(np.float32)
    first = record.batches[0][sorted(record.batches[0])[0]]
    assert first.shape == (8, 8, 8, 3)
    assert all(any(np.array_equal(row, image) for image in images) for row in first)


SAVE_THEN_RESTORE = """
import os
import sys

import numpy as np
import tensorflow as tf

FOLDER = sys.argv[1]
x = tf.placeholder(tf.float32, [None, 2], name="x")
w = tf.Variable(tf.ones([2, 1]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
saver = tf.train.Saver()
data = np.random.RandomState(0).normal(size=(4, 2))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run(train_op, {x: data})
    path = saver.save(sess, os.path.join(FOLDER, "model.ckpt"))
with tf.Session() as sess:
    saver.restore(sess, path)
    for _ in range(3):
        sess.run(train_op, {x: data})
"""


@pytest.mark.slow
def test_a_script_that_saves_and_restores_within_its_steps_runs_and_writes_nothing(tmp_path):
    """The save goes to the check's own folder and the restore of the path it returned reads
    it there: six steps across the restore, and the script's folder stays empty."""
    script, folder = tmp_path / "script.py", tmp_path / "run"
    script.write_text(SAVE_THEN_RESTORE)
    folder.mkdir()
    record = run_tf1(old_program(script, argv=[str(folder)]), 6)
    assert len(record.after) == 6
    assert not record.meta["restored"]  # made after the first step: not where the check starts
    assert list(folder.iterdir()) == []
