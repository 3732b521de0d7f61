"""500 XOR steps from the same weights: the three implementations end in the same place."""

import numpy as np
import pytest
from implementations import assert_close, assert_identical

import keras_impl
import manual_impl
import tf_impl
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.reference import tf1 as tf1_reference

SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def runs():
    """Every implementation trained on XOR, per (dtype, seed)."""
    x, y = xor_data()
    results = {}
    for dtype in ("float32", "float64"):
        cfg = TrainConfig(dtype=dtype)
        for seed in SEEDS:
            params = init_params(cfg, seed=seed)
            results[dtype, seed] = {
                "manual": manual_impl.train(params, x, y, cfg),
                "tf": tf_impl.train(params, x, y, cfg),
                "keras": keras_impl.train(params, x, y, cfg),
                "tf1": tf1_reference.train(params, x, y, cfg),
            }
    return results


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_tf2_port_reproduces_the_tf1_program_bit_for_bit(runs, dtype, seed):
    assert_identical(runs[dtype, seed]["tf1"], runs[dtype, seed]["tf"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS)
def test_keras_fit_reproduces_the_tf1_program_bit_for_bit(runs, dtype, seed):
    assert_identical(runs[dtype, seed]["tf1"], runs[dtype, seed]["keras"])


@pytest.mark.parametrize("seed", SEEDS)
def test_numpy_matches_tf_within_1e_12_in_float64(runs, seed):
    assert_close(runs["float64", seed]["manual"], runs["float64", seed]["tf"], atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_numpy_matches_tf_within_1e_4_in_float32(runs, seed):
    assert_close(runs["float32", seed]["manual"], runs["float32", seed]["tf"], atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_run_has_one_loss_per_step_and_learns(runs, dtype):
    for seed in SEEDS:
        for name, result in runs[dtype, seed].items():
            assert result.losses.shape == (500,), name
            assert result.losses.dtype == np.dtype(dtype), name
            assert result.outputs.shape == (4, 1), name
            assert result.final_loss < result.losses[0], name
            assert result.diverged_at is None


def test_the_losses_are_taken_before_each_update():
    # the first recorded loss must be the loss of the initial weights
    cfg = TrainConfig(dtype="float64", steps=3)
    x, y = xor_data()
    params = init_params(cfg, seed=4)
    initial_loss, _ = manual_impl.loss_and_grads(params, x, y, cfg)
    for impl in (manual_impl, tf_impl, keras_impl, tf1_reference):
        assert impl.train(params, x, y, cfg).losses[0] == pytest.approx(initial_loss, abs=1e-15)


def test_training_does_not_mutate_the_given_weights():
    cfg = TrainConfig(steps=5)
    x, y = xor_data()
    params = init_params(cfg)
    before = {key: value.copy() for key, value in params.items()}
    for impl in (manual_impl, tf_impl, keras_impl, tf1_reference):
        impl.train(params, x, y, cfg)
        for key in params:
            np.testing.assert_array_equal(params[key], before[key])


def random_regression(samples=10, seed=1):
    # values that float32 cannot hold exactly: a float32 cast anywhere on the way shows up
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (samples, 2)), rng.uniform(0, 1, (samples, 1))


def test_float64_data_reach_keras_unrounded():
    x, y = random_regression()
    cfg = TrainConfig(dtype="float64", learning_rate=0.05, steps=20)
    params = init_params(cfg)
    assert_identical(tf_impl.train(params, x, y, cfg), keras_impl.train(params, x, y, cfg))
