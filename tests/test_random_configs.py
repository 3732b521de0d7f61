"""Hypothesis draws valid configurations, weights and data; the three implementations agree."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_impl
import manual_impl
import tf_impl
from common import ACTIVATIONS, INITS, LOSSES, TrainConfig, init_params

configs = st.builds(
    TrainConfig,
    layers=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
    activation=st.sampled_from(ACTIVATIONS),
    loss=st.sampled_from(LOSSES),
    learning_rate=st.sampled_from([0.05, 0.1, 0.5, 1.0]),
    steps=st.integers(1, 25),
    init=st.sampled_from(INITS),
    seed=st.integers(0, 2**16),
    dtype=st.just("float64"),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs, samples=st.integers(1, 8), data_seed=st.integers(0, 2**16))
def test_three_implementations_train_alike_on_random_configs(cfg, samples, data_seed):
    rng = np.random.default_rng(data_seed)
    x = rng.uniform(-1, 1, (samples, cfg.layers[0]))
    y = rng.uniform(0, 1, (samples, cfg.layers[-1]))
    params = init_params(cfg)
    results = [impl.train(params, x, y, cfg) for impl in (manual_impl, tf_impl, keras_impl)]
    reference = results[0]
    for other in results[1:]:
        np.testing.assert_allclose(other.losses, reference.losses, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(other.outputs, reference.outputs, rtol=0, atol=1e-10)
        for key in params:
            np.testing.assert_allclose(other.params[key], reference.params[key], rtol=0, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(cfg=configs, samples=st.integers(1, 8), data_seed=st.integers(0, 2**16))
def test_hand_written_gradients_match_gradient_tape_on_random_configs(cfg, samples, data_seed):
    rng = np.random.default_rng(data_seed)
    x = rng.normal(0, 1, (samples, cfg.layers[0]))
    y = rng.uniform(0, 1, (samples, cfg.layers[-1]))
    params = init_params(cfg)
    manual_loss, manual = manual_impl.loss_and_grads(params, x, y, cfg)
    tf_loss, tape = tf_impl.loss_and_grads(params, x, y, cfg)
    assert abs(manual_loss - tf_loss) <= 1e-12 * max(1.0, abs(tf_loss))
    for key in params:
        np.testing.assert_allclose(manual[key], tape[key], rtol=0, atol=1e-12)
