"""The migration check's parts on their own: pairing weights, carrying gradients through a
transform, measuring differences, and the dropout that both programs draw alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from backprop_suite.migration.port.weights import Link, link_weights
from backprop_suite.migration.processes import child_environment
from backprop_suite.migration.random_ops import random_mode
from backprop_suite.verify.tolerances import Tolerance, difference

TF1 = ["m1", "b1"]
VALUES = [np.ones((2, 3)), np.ones(3)]


def test_creation_order_pairs_by_position_and_checks_shapes():
    links = link_weights(TF1, VALUES, ["dense/kernel", "dense/bias"], VALUES)
    assert [(link.tf1, link.port) for link in links] == [(0, 0), (1, 1)]
    with pytest.raises(ValueError, match=r"TF1 b1 \[3\] against port dense/bias \[4\]"):
        link_weights(TF1, VALUES, ["dense/kernel", "dense/bias"], [VALUES[0], np.ones(4)])
    with pytest.raises(ValueError, match="TF1 has 2 trainable variables, the port 1"):
        link_weights(TF1, VALUES, ["dense/kernel"], VALUES[:1])


@pytest.mark.parametrize(
    "weight_map, message",
    [
        ({"m9": "k", "b1": "b"}, "WEIGHT_MAP names 'm9', which TF1 does not have"),
        ({"m1": "k", "b1": "x"}, "port variable 'x', which the port does not have"),
        ({"m1": "k", "b1": "k"}, "fills port variable 'k' twice"),
        ({"m1": ("k", lambda w: w.T), "b1": "b"}, r"carries m1 \[2, 3\] to k as \[3, 2\]"),
        ({"m1": "k"}, r"leaves port variables \['b'\] unfilled and TF1 variables \['b1'\] unused"),
    ],
)
def test_a_weight_map_that_does_not_fit_names_both_sides(weight_map, message):
    with pytest.raises(ValueError, match=message):
        link_weights(TF1, VALUES, ["k", "b"], VALUES, weight_map)


def test_one_tf1_variable_may_fill_several_port_variables():
    kernel = np.arange(12.0).reshape(4, 3)
    weight_map = {"m1": {"x": lambda k: k[:1], "h": lambda k: k[1:]}, "b1": "b"}
    links = link_weights(
        ["m1", "b1"],
        [kernel, np.ones(3)],
        ["x", "h", "b"],
        [kernel[:1], kernel[1:], np.ones(3)],
        weight_map,
    )
    assert [link.port for link in links] == [0, 1, 2]
    np.testing.assert_array_equal(links[1].carry(kernel), kernel[1:])


def test_gradients_cross_an_affine_transform_by_its_linear_part():
    forget_bias = Link(0, 0, lambda b: b[::-1] + np.array([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(forget_bias.carry(np.array([1.0, 2.0, 3.0])), [3.0, 3.0, 1.0])
    np.testing.assert_array_equal(forget_bias.carry_gradient(np.array([1.0, 2.0, 3.0])), [3, 2, 1])


def test_a_difference_names_the_worst_element_against_its_tolerance():
    old = np.array([[1.0, 100.0], [0.0, 2.0]])
    new = old + np.array([[0.0, 1e-3], [2e-6, 0.0]])
    diff = difference(new, old, Tolerance(atol=1e-6, rtol=1e-5))
    # 1e-3 at 100 is within its tolerance (1.001e-3); 2e-6 at 0 is twice its own.
    assert diff.index == (1, 0) and diff.excess == pytest.approx(2.0) and not diff.agrees
    assert diff.largest == pytest.approx(1e-3)
    assert difference(old, old, Tolerance(atol=0.0, rtol=0.0)).excess == 0.0
    assert difference([np.nan], [1.0], Tolerance(atol=1.0, rtol=1.0)).excess == np.inf


def test_aligned_dropout_draws_the_same_mask_in_a_tf1_graph_and_in_keras():
    x = np.linspace(1.0, 2.0, 40, dtype=np.float32).reshape(4, 10)
    with random_mode("aligned"):
        with tf.Graph().as_default():
            keep_prob = tf.compat.v1.placeholder(tf.float32)
            dropped = tf.compat.v1.nn.dropout(tf.constant(x), keep_prob)
            with tf.compat.v1.Session() as session:
                tf1 = session.run(dropped, {keep_prob: 0.75})
        keras_layer = np.asarray(keras.layers.Dropout(0.25, dtype="float32")(x, training=True))
    np.testing.assert_array_equal(tf1, keras_layer)
    assert 0 < np.count_nonzero(tf1 == 0) < x.size
    with random_mode("off"):
        np.testing.assert_array_equal(
            keras.layers.Dropout(0.25, dtype="float32")(x, training=True), x
        )
    with random_mode("as-is"):
        own_draw = np.asarray(keras.layers.Dropout(0.25, dtype="float32")(x, training=True))
    assert not np.array_equal(own_draw, keras_layer)


def test_keras_numbers_unnamed_layers_per_process():
    def paths():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return [variable.path for variable in model.weights]

    first, second = paths(), paths()
    assert first != second  # so a WEIGHT_MAP names the port's layers
    named = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="out")], name="net")
    assert [v.path for v in named.weights] == ["net/out/kernel", "net/out/bias"]


def test_keras_fixes_its_dtype_policy_at_first_use_so_floatx_alone_does_not_change_layers():
    program = (
        "import keras\n"
        "keras.config.set_floatx('float64')\n"
        "keras.layers.Dense(1).build((None, 2))\n"
        "keras.config.set_floatx('float32')\n"
        "print(keras.layers.Dense(1).dtype)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.split() == ["float64"], done.stderr


SHARED_GRAPH_CHECK = """
import numpy as np, tensorflow as tf
from backprop_suite.migration.tf1.reruns import built, rerun
from backprop_suite.migration.tf1.recording import record_tf1
from backprop_suite.migration.tf1.old_program import OldProgram

tf.compat.v1.disable_v2_behavior()
path = {path!r}
record = record_tf1(path, 3)
same = (OldProgram(path), record, None, "aligned", 0)
moved = [value * np.float32(1.001) for value in record.initial]
shared, _ = built(*same)
runs = [rerun(*same, moved)] + [rerun(*same, moved, program=shared) for _ in range(2)]
one, one_chosen = built(*same, noise=1)
eight, chosen = built(*same, noise=8)
runs += [rerun(*same, record.initial, None, one, {{c: 0 for c in one_chosen}})]
runs += [rerun(*same, record.initial, None, eight, {{c: 0 for c in chosen}})]
same_as = lambda a, b: a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
print(same_as(runs[0], runs[1]), same_as(runs[1], runs[2]), same_as(runs[3], runs[4]))
print(not same_as(runs[4], rerun(*same, record.initial, None, eight, {{c: 1 for c in chosen}})))
"""


def test_reruns_that_share_a_graph_equal_reruns_that_build_their_own():
    """The envelope runs its nudged runs in one graph and its noisy runs in another that holds
    every run's draws: each is what a graph built for that run alone gives, bit for bit, and the
    runs' noise differs."""
    path = Path(__file__).resolve().parents[2] / "examples" / "migrations" / "mlp_adam" / "tf1.py"
    done = subprocess.run(
        [sys.executable, "-c", SHARED_GRAPH_CHECK.format(path=str(path))],
        capture_output=True,
        text=True,
        env=child_environment(),
    )
    assert done.stdout.split() == ["True"] * 4, done.stdout + done.stderr[-3000:]


def test_the_jobs_of_a_lane_share_one_warm_process_and_a_dead_one_is_replaced(monkeypatch):
    """One process a lane and environment, kept warm while jobs of another environment run."""
    from backprop_suite.migration import processes

    job = ["record", "no_such_program.py", "out.npz", "--steps", "1"]

    def run(lane="a test's lane", **more):
        started = processes.Job(job, {**child_environment(), **more}, lane)
        return started.server.process, started.wait()

    first, done = run()
    assert done.returncode == 2 and "no_such_program.py: no such file" in done.stderr
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "another test")  # pytest's, set for every test
    other, _ = run(ANOTHER_SETTING="1")  # another environment: a process of its own
    assert other.pid != first.pid
    dead, _ = run()  # and back: the first is still warm
    assert dead.pid == first.pid
    dead.kill()
    dead.wait()
    replaced, done = run()
    assert replaced.pid != first.pid and done.returncode == 2
