"""The seed's TF1 program, runnable today: line for line the article's, and the same numbers as
the TF2 port and Keras."""

import difflib
import inspect
import os
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from implementations import assert_identical

import tf_impl
from backprop_suite.core import TrainConfig, init_params, load_params, save_params, xor_data
from backprop_suite.reference import tf1 as tf1_reference
from backprop_suite.reference.checkpoint import load_tf1_checkpoint
from tf_impl import random_init

ARTICLE_PROGRAM = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_snippet.py"


def stripped_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_reference_differs_from_the_article_only_where_python3_and_injection_require():
    article = stripped_lines(ARTICLE_PROGRAM.read_text())
    ours = stripped_lines(inspect.getsource(tf1_reference.seed_program))
    diff = list(difflib.ndiff(article, ours))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert removed == [
        "import tensorflow as tf",
        "m1 = tf.Variable( tf.random_uniform( [2,3] , minval=0.1 , maxval=0.9 , dtype=tf.float32  ))",  # noqa: E501
        "b1 = tf.Variable( tf.random_uniform( [3]   , minval=0.1 , maxval=0.9 , dtype=tf.float32  ))",  # noqa: E501
        "m2 = tf.Variable( tf.random_uniform( [3,1] , minval=0.1 , maxval=0.9 , dtype=tf.float32  ))",  # noqa: E501
        "b2 = tf.Variable( tf.random_uniform( [1]   , minval=0.1 , maxval=0.9 , dtype=tf.float32  ))",  # noqa: E501
        'print ""',
        "print label",
        "print result",
        'print ""',
    ]
    assert added == [
        "def seed_program(weights):",
        '"""The seed program with ``weights`` (m1, b1, m2, b2) in place of its random draw."""',
        "with tf.Graph().as_default():",
        'm1 = tf.Variable( weights["m1"] , dtype=tf.float32 )',
        'b1 = tf.Variable( weights["b1"] , dtype=tf.float32 )',
        'm2 = tf.Variable( weights["m2"] , dtype=tf.float32 )',
        'b2 = tf.Variable( weights["b2"] , dtype=tf.float32 )',
        'print("")',
        "print(label)",
        "print(result)",
        'print("")',
        "return dict(zip(labels, results))",
    ]
    assert "import tensorflow.compat.v1 as tf" in inspect.getsource(tf1_reference)


def test_the_reference_leaves_eager_execution_on():
    with redirect_stdout(StringIO()):
        tf1_reference.seed_program(init_params(TrainConfig()))
    tf1_reference.train(init_params(TrainConfig()), *xor_data(), TrainConfig(steps=2))
    assert tf.executing_eagerly()


def test_the_seed_program_and_the_generalised_train_give_the_same_numbers():
    cfg = TrainConfig()
    params = init_params(cfg)
    printed = StringIO()
    with redirect_stdout(printed):
        seed = tf1_reference.seed_program(params)
    result = tf1_reference.train(params, *xor_data(), cfg)
    for key in params:
        np.testing.assert_array_equal(seed[key], result.params[key])
    np.testing.assert_array_equal(seed["y_out"], result.outputs)
    assert printed.getvalue().splitlines()[:2] == ["", "m1"]


@pytest.mark.slow
def test_running_the_module_prints_like_the_seed_program():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-m", "backprop_suite.reference.tf1"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    lines = out.stdout.splitlines()
    labels = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == ""]
    assert labels == ["m1", "b1", "m2", "b2", "y_out", "loss"]
    assert lines[-1] == ""
    cfg = TrainConfig()
    result = tf1_reference.train(init_params(cfg), *xor_data(), cfg)
    y_out_text = " ".join(lines[lines.index("y_out") + 1 : lines.index("loss") - 1])
    printed = np.array(y_out_text.replace("[", " ").replace("]", " ").split(), dtype=float)
    np.testing.assert_allclose(printed, result.outputs.ravel(), atol=1e-7)


def test_a_graph_level_seed_alone_does_not_carry_over_to_tf2():
    cfg = TrainConfig()
    tf1 = tf1_reference.draw_weights(cfg, graph_seed=42)
    tf2 = random_init.draw_weights(cfg, graph_seed=42)
    assert all(not np.array_equal(tf1[key], tf2[key]) for key in tf1)
    # each side is reproducible on its own
    assert all(np.array_equal(tf1[k], tf1_reference.draw_weights(cfg, 42)[k]) for k in tf1)
    assert all(np.array_equal(tf2[k], random_init.draw_weights(cfg, 42)[k]) for k in tf2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_op_level_seeds_make_tf2_draw_the_tf1_weights_bit_for_bit(dtype):
    cfg = TrainConfig(dtype=dtype)
    tf1 = tf1_reference.draw_weights(cfg, graph_seed=42, op_seeds=[1, 2, 3, 4])
    tf2 = random_init.draw_weights(cfg, graph_seed=42, op_seeds=[1, 2, 3, 4])
    for key in tf1:
        np.testing.assert_array_equal(tf1[key], tf2[key])
        assert tf1[key].min() >= 0.1 and tf1[key].max() < 0.9


def test_op_seeds_must_cover_every_weight():
    with pytest.raises(ValueError, match="need 4 op seeds"):
        random_init.draw_weights(TrainConfig(), 42, op_seeds=[1, 2])
    with pytest.raises(ValueError, match="need 4 op seeds"):
        tf1_reference.draw_weights(TrainConfig(), 42, op_seeds=[1, 2])


def seed_style_run_with_a_checkpoint(prefix, steps=50):
    """The seed's graph as a TF1 user wrote it, unnamed variables and all, saved by a Saver."""
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        tf1.set_random_seed(7)
        x0 = tf1.constant([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
        y0 = tf1.constant([[0.0], [0.0], [1.0], [1.0]])
        m1 = tf1.Variable(tf1.random_uniform([2, 3], minval=0.1, maxval=0.9))
        b1 = tf1.Variable(tf1.random_uniform([3], minval=0.1, maxval=0.9))
        h1 = tf1.sigmoid(tf1.matmul(x0, m1) + b1)
        m2 = tf1.Variable(tf1.random_uniform([3, 1], minval=0.1, maxval=0.9))
        b2 = tf1.Variable(tf1.random_uniform([1], minval=0.1, maxval=0.9))
        y_out = tf1.sigmoid(tf1.matmul(h1, m2) + b2)
        loss = tf1.reduce_sum(tf1.square(y0 - y_out))
        train = tf1.train.GradientDescentOptimizer(1.0).minimize(loss)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            tf1.train.Saver().save(sess, str(prefix))
            return dict(zip(["m1", "b1", "m2", "b2"], sess.run([m1, b1, m2, b2])))


def test_a_tf1_checkpoint_carries_over_into_the_npz_format(tmp_path):
    cfg = TrainConfig()
    in_session = seed_style_run_with_a_checkpoint(tmp_path / "seed.ckpt")
    loaded = load_tf1_checkpoint(tmp_path / "seed.ckpt", cfg)
    save_params(tmp_path / "weights.npz", loaded)
    round_trip = load_params(tmp_path / "weights.npz", cfg)
    for key in in_session:
        np.testing.assert_array_equal(round_trip[key], in_session[key])
    # and training goes on from there in TF2 as it would have in TF1
    x, y = xor_data()
    more = TrainConfig(steps=20)
    assert_identical(tf_impl.train(round_trip, x, y, more), tf1_reference.train(loaded, x, y, more))


def test_named_variables_are_read_by_name(tmp_path):
    cfg = TrainConfig(layers=(2, 4, 3, 2), dtype="float64", steps=5)
    x, y = np.random.default_rng(0).uniform(0, 1, (6, 2)), np.zeros((6, 2))
    result = tf1_reference.train(init_params(cfg), x, y, cfg, checkpoint=tmp_path / "named")
    loaded = load_tf1_checkpoint(tmp_path / "named", cfg)
    for key in result.params:
        np.testing.assert_array_equal(loaded[key], result.params[key])


def test_a_missing_or_mismatched_checkpoint_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no readable TF checkpoint"):
        load_tf1_checkpoint(tmp_path / "absent", TrainConfig())
    seed_style_run_with_a_checkpoint(tmp_path / "seed.ckpt", steps=1)
    with pytest.raises(ValueError, match="has no variable for"):
        load_tf1_checkpoint(tmp_path / "seed.ckpt", TrainConfig(layers=(2, 3, 3, 1)))
    with pytest.raises(ValueError, match="weight m1 has shape"):
        load_tf1_checkpoint(tmp_path / "seed.ckpt", TrainConfig(layers=(3, 3, 1)))


@pytest.mark.parametrize("name", ["DeterministicRandomTestTool", "track_tf1_style_variables"])
def test_the_tf_migration_guides_tools_are_missing_under_keras_3(name):
    # tf.compat.v1.keras is Keras 3 here; these helpers live only in the tf_keras package
    with pytest.raises(AttributeError, match=name):
        getattr(tf.compat.v1.keras.utils, name)
