"""Keras 3's built-in optimizers against TF1's: each gap of the official mapping measured and
held to its size, so that a Keras that closes one turns its test red, and each cause shown.

The gaps are measured as docs/migration_guide.md section 2b tabulates them: the seed net, float64
unless named, 50 full-batch steps from the same weights, the largest weight difference from the
TF1 graph. The mappings are keras_impl.optimizers'."""

import numpy as np
import pytest
import tensorflow as tf
from implementations import assert_identical, assert_keras_is_tf1
from keras import ops

import keras_impl
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.reference import tf1 as tf1_reference
from keras_impl.model import floatx
from keras_impl.optimizers import keras_optimizer

MOMENTUM = {"optimizer": "momentum", "optimizer_args": {"momentum": 0.9}}
NESTEROV = {"optimizer": "momentum", "optimizer_args": {"momentum": 0.9, "use_nesterov": True}}
ROUNDING = "rounding"  # not bit for bit, but below 1e-13: the same formula, rounded elsewhere

# id: (config fields, {mapping: the largest weight difference measured})
GAPS = {
    # at a power-of-two rate Keras's rate·accumulation is TF1's exactly; Python's 0.9 is not
    "momentum at rate 0.5": (
        {**MOMENTUM, "learning_rate": 0.5},
        {"closest": 0.0, "matched": 6.2e-7},
    ),
    "momentum at rate 0.1": (
        {**MOMENTUM, "learning_rate": 0.1},
        {"closest": ROUNDING, "matched": 1.4e-7},
    ),
    "nesterov at rate 0.1": (
        {**NESTEROV, "learning_rate": 0.1},
        {"closest": ROUNDING, "matched": 6.3e-8},
    ),
    "momentum with decay": (
        {**MOMENTUM, "learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9},
        {"closest": 0.044, "matched": 0.044},
    ),
    "adam": (
        {"optimizer": "adam", "learning_rate": 0.1},
        {"closest": ROUNDING, "matched": 4.3e-5, "defaults": 6.3e-4},
    ),
    "adam in float32": (
        {"optimizer": "adam", "learning_rate": 0.1, "dtype": "float32"},
        {"closest": 9.5e-7, "matched": 4.2e-5, "defaults": 6.3e-4},
    ),
    "rmsprop": (
        {"optimizer": "rmsprop", "learning_rate": 0.05},
        {"closest": 3.1, "matched": 3.1, "defaults": 3.1},
    ),
    "adagrad": (
        {"optimizer": "adagrad", "learning_rate": 0.5},
        {"closest": 0.0, "defaults": 3.3e-7},
    ),
}


def weight_gap(a, b) -> float:
    return max(float(np.max(np.abs(a.params[k] - b.params[k]))) for k in a.params)


@pytest.mark.slow
@pytest.mark.parametrize("case", GAPS)
def test_each_builtin_parts_from_tf1_by_its_measured_gap(case):
    fields, measured = GAPS[case]
    cfg = TrainConfig(steps=50, **{"dtype": "float64", **fields})
    x, y = xor_data(cfg.dtype)
    params = init_params(cfg)
    reference = tf1_reference.train(params, x, y, cfg)
    assert_keras_is_tf1(keras_impl.train(params, x, y, cfg, mapping="exact"), reference, cfg)
    for mapping, size in measured.items():
        gap = weight_gap(keras_impl.train(params, x, y, cfg, mapping=mapping), reference)
        if size == ROUNDING:
            assert 0 < gap < 1e-13, (mapping, gap)
        elif size == 0:
            assert gap == 0, (mapping, gap)
        else:
            assert size / 3 < gap < size * 3, (mapping, gap)


def test_keras_rounds_python_floats_through_float32_but_not_numpy_float64s():
    # the cause of every "matched" float64 gap above: Keras's SGD casts its momentum, Adam its
    # betas, ExponentialDecay its rates and the Constant initializer its value this way
    assert float(ops.cast(0.9, "float64")) == float(np.float32(0.9)) != 0.9
    assert float(ops.cast(np.float64(0.9), "float64")) == 0.9
    with floatx("float64"):
        python = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
        numpy = tf.keras.optimizers.schedules.ExponentialDecay(np.float64(0.1), 10, np.float64(0.9))
        assert python(5).dtype == "float32"
        assert float(numpy(5)) == 0.1 * 0.9**0.5


def test_the_exact_mapping_uses_keras_own_sgd_and_adagrad_and_tf1s_rules_otherwise():
    names = {
        name: type(keras_optimizer(TrainConfig(**fields))).__name__
        for name, fields in {
            "sgd": {},
            "adagrad": {"optimizer": "adagrad"},
            "momentum": MOMENTUM,
            "adam": {"optimizer": "adam"},
            "rmsprop": {"optimizer": "rmsprop"},
        }.items()
    }
    assert names == {
        "sgd": "SGD",
        "adagrad": "Adagrad",
        "momentum": "TF1Momentum",
        "adam": "TF1Adam",
        "rmsprop": "TF1RMSProp",
    }


def test_keras_rmsprops_first_step_is_the_rate_whatever_the_gradient():
    # the cause of the RMSProp gap: Keras starts its mean square at 0, so its first step is
    # rate · g / sqrt((1 - rho) g² + eps), about rate / sqrt(1 - rho) against the gradient's
    # sign; TF1 starts at 1 (tests/agreement/test_optimizers.py checks TF1's first step)
    cfg = TrainConfig(optimizer="rmsprop", learning_rate=0.05, steps=1, dtype="float64")
    x, y = xor_data("float64")
    params = init_params(cfg)
    _, grads = tf1_reference.loss_and_grads(params, x, y, cfg)
    moved = keras_impl.train(params, x, y, cfg, mapping="closest").params
    for key, g in grads.items():
        step = 0.05 * g / np.sqrt(0.1 * g**2 + 1e-10)
        np.testing.assert_allclose(params[key] - moved[key], step, rtol=1e-12)
        assert np.all(np.abs(step) > 0.05 / np.sqrt(0.1) * 0.99)


def test_keras_adam_computes_beta_to_the_t_by_pow_where_tf1_multiplies():
    # the cause of Adam's "closest" gap: beta2^t by one pow against t products, as TF1's
    # beta2_power variable grows, differ in the last bits within 50 steps
    for dtype in ("float32", "float64"):
        beta2 = tf.constant(0.999, dtype)
        power, differ = beta2, []
        for t in range(1, 51):
            differ.append(float(tf.pow(beta2, tf.constant(t, dtype))) != float(power))
            power = power * beta2
        assert any(differ), dtype


def test_the_nesterov_rounding_is_tfs_graph_optimizer_hoisting_the_rate():
    # with Grappler's arithmetic optimizer off, Keras's Nesterov step is TF1's bit for bit; the
    # suite leaves it on, as every Keras user has it, and holds the step to its rounding
    cfg = TrainConfig(**NESTEROV, learning_rate=0.1, steps=37, dtype="float64")  # a fresh trace
    x, y = xor_data("float64")
    params = init_params(cfg)
    previous = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})
    try:
        keras = keras_impl.train(params, x, y, cfg)
    finally:
        tf.config.optimizer.set_experimental_options(
            {"arithmetic_optimization": previous.get("arithmetic_optimization")}
        )
        keras_impl.trainer._models.clear()
    assert_identical(keras, tf1_reference.train(params, x, y, cfg))


def test_keras_sgd_momentum_parts_from_tf1_when_the_rate_changes():
    # at a constant power-of-two rate the two momentum formulas train alike (GAPS above); when
    # the rate decays, TF1 applies today's rate to the whole accumulation and Keras each step's
    # own rate to its gradient: after one decay step the weights already differ
    cfg = TrainConfig(
        **MOMENTUM, learning_rate=0.5, steps=3, decay_steps=1, decay_rate=0.5, dtype="float64"
    )
    x, y = xor_data("float64")
    params = init_params(cfg)
    reference = tf1_reference.train(params, x, y, cfg)
    keras = keras_impl.train(params, x, y, cfg, mapping="closest")
    np.testing.assert_array_equal(keras.losses[:2], reference.losses[:2])
    assert keras.losses[2] != reference.losses[2]
    assert weight_gap(keras, reference) > 1e-3
