"""Gradients: the hand-written chain rule, GradientTape and Keras agree, and all three agree with
central finite differences and with ``tf.test.compute_gradient``."""

import numpy as np
import pytest
import tensorflow as tf
from implementations import IMPLEMENTATIONS

import manual_impl
from backprop_suite.core import ACTIVATIONS, LOSSES, TrainConfig, init_params, xor_data
from backprop_suite.verify.finite_differences import central_differences, relative_error

SHAPES = [(2, 1), (2, 3, 1), (2, 2, 2), (3, 5, 2), (2, 4, 3, 2), (4, 3, 3, 3, 1)]


def random_problem(layers, activation, loss, seed, init="xavier", samples=6):
    """Random float64 weights and data for a net of ``layers``."""
    cfg = TrainConfig(layers=layers, activation=activation, loss=loss, init=init, dtype="float64")
    rng = np.random.default_rng(seed)
    params = init_params(cfg, seed=seed)
    params = {k: v + rng.normal(0, 0.3, v.shape) for k, v in params.items()}
    x = rng.normal(0, 1, (samples, layers[0]))
    y = rng.uniform(0, 1, (samples, layers[-1]))
    return cfg, params, x, y


CASES = [
    (layers, activation, loss) for layers in SHAPES for activation in ACTIVATIONS for loss in LOSSES
]


@pytest.mark.parametrize("seed,layers,activation,loss", [(i, *c) for i, c in enumerate(CASES)])
def test_the_frameworks_agree_bit_for_bit_and_numpy_within_1e_12(seed, layers, activation, loss):
    cfg, params, x, y = random_problem(layers, activation, loss, seed)
    manual_loss, manual = manual_impl.loss_and_grads(params, x, y, cfg)
    tape_loss, tape = IMPLEMENTATIONS["tf"].loss_and_grads(params, x, y, cfg)
    assert tape_loss == pytest.approx(manual_loss, rel=1e-12, abs=1e-12)
    assert tape.keys() == manual.keys()
    for key in tape:
        assert tape[key].shape == params[key].shape
        np.testing.assert_allclose(tape[key], manual[key], rtol=0, atol=1e-12, err_msg=key)
    for name in ("keras", "tf1"):
        value, grads = IMPLEMENTATIONS[name].loss_and_grads(params, x, y, cfg)
        assert value == tape_loss, name
        for key in grads:
            np.testing.assert_array_equal(grads[key], tape[key], err_msg=f"{name} {key}")


@pytest.mark.parametrize("name", ["manual", "tf", "keras", "tf1"])
@pytest.mark.parametrize(
    "layers,activation,loss",
    [
        ((2, 3, 1), "sigmoid", "sum_squares"),
        ((2, 2, 2), "tanh", "half_sum_squares"),
        ((3, 4, 2), "relu", "mean_squares"),
        ((2, 4, 3, 2), "sigmoid", "mean_squares"),
        ((2, 3, 3, 1), "tanh", "sum_squares"),
    ],
)
def test_gradients_match_central_finite_differences(name, layers, activation, loss):
    impl = IMPLEMENTATIONS[name]
    cfg, params, x, y = random_problem(layers, activation, loss, seed=11)
    _, analytic = impl.loss_and_grads(params, x, y, cfg)
    numeric = central_differences(lambda p: manual_impl.loss_and_grads(p, x, y, cfg)[0], params)
    for key in params:
        assert relative_error(analytic[key], numeric[key]) < 1e-7, key


def test_finite_differences_on_the_seed_network_at_its_initial_weights():
    cfg = TrainConfig(dtype="float64")
    x, y = xor_data("float64")
    params = init_params(cfg)
    _, analytic = manual_impl.loss_and_grads(params, x, y, cfg)
    numeric = central_differences(lambda p: manual_impl.loss_and_grads(p, x, y, cfg)[0], params)
    for key in params:
        assert relative_error(analytic[key], numeric[key]) < 1e-7, key


def test_finite_differences_catch_a_wrong_gradient():
    # the harness itself must be able to fail: a sign flip in one weight's gradient is caught
    cfg, params, x, y = random_problem((2, 3, 1), "sigmoid", "sum_squares", seed=3)
    _, analytic = manual_impl.loss_and_grads(params, x, y, cfg)
    numeric = central_differences(lambda p: manual_impl.loss_and_grads(p, x, y, cfg)[0], params)
    wrong = analytic["m1"].copy()
    wrong[0, 0] = -wrong[0, 0]
    assert relative_error(wrong, numeric["m1"]) > 1e-3


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_manual_gradients_match_tf_test_compute_gradient(activation):
    """TF's own checker differentiates the loss written here in plain TF ops, apart from tf_impl,
    by finite differences; the hand-written gradients must match its numbers."""
    layers = (2, 3, 2)
    cfg, params, x, y = random_problem(layers, activation, "sum_squares", seed=5)
    _, manual = manual_impl.loss_and_grads(params, x, y, cfg)
    keys = list(cfg.param_shapes())
    act = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}[activation]

    def loss(*weights):
        h = tf.constant(x)
        for m, b in zip(weights[0::2], weights[1::2]):
            h = act(tf.matmul(h, m) + b)
        return tf.reshape(tf.reduce_sum(tf.square(y - h)), [1])

    theoretical, numerical = tf.test.compute_gradient(loss, [params[k] for k in keys], delta=1e-6)
    for key, jac_numeric in zip(keys, numerical):
        numeric = jac_numeric.reshape(params[key].shape)
        assert relative_error(manual[key], numeric) < 1e-7, key
