"""The loss-scaling mistakes of data-parallel training, each measured against one device.

Every replica differentiates a loss over its share of the batch and the gradients are summed.
Get the share wrong and the net trains at another rate, without an error:

- a mean over the replica's own rows: N times the rate;
- the replicas' gradients averaged (TF1's tower programs) with the seed's summed loss: 1/N;
- Keras's own mean losses under ``fit``: scaled by 1/N, which is the global mean only when every
  replica holds as many rows; with uneven shares each replica's rows weigh 1/(N · its rows).

The effective rate is measured from one step: how far the weights moved, as a multiple of how
far the correct step moves them (``effective_rate``).
"""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

import manual_impl
import tf_impl
from backprop_suite.core import TrainConfig, init_params, noisy_xor, xor_data
from backprop_suite.distribute.devices import mirrored_strategy
from keras_impl.data import tf_dataset
from keras_impl.model import build_model, floatx, get_params
from keras_impl.optimizers import keras_optimizer
from tf_impl import distributed


def moved(after: dict, before: dict) -> np.ndarray:
    return np.concatenate([(after[key] - before[key]).ravel() for key in before])


def effective_rate(wrong: dict, right: dict, before: dict, rate: float) -> float:
    """The rate the wrong step took, from the least-squares ratio of the two moves; the moves
    are checked to be parallel, so that one number says it."""
    wrong_move, right_move = moved(wrong, before), moved(right, before)
    ratio = float(wrong_move @ right_move / (right_move @ right_move))
    np.testing.assert_allclose(wrong_move, ratio * right_move, rtol=1e-12, atol=1e-15)
    return ratio * rate


@pytest.mark.parametrize("replicas", [2, 4])
def test_a_mean_over_each_replicas_rows_trains_n_times_too_fast(replicas):
    cfg = TrainConfig(loss="mean_squares", dtype="float64", learning_rate=0.5, steps=1)
    x, y = noisy_xor(20, seed=1, dtype="float64")  # 20 rows: equal shares on 2 and 4
    params = init_params(cfg)
    spread = replace(cfg, replicas=replicas)
    right = distributed.train(params, x, y, spread)
    wrong = distributed.train(params, x, y, spread, scaling="per_replica")
    rate = effective_rate(wrong.params, right.params, params, cfg.learning_rate)
    assert rate == pytest.approx(replicas * cfg.learning_rate, rel=1e-12)
    # and it is what one device trains at N times the rate, step after step
    long = replace(spread, steps=200)
    wrong_run = distributed.train(params, x, y, long, scaling="per_replica")
    faster = tf_impl.train(params, x, y, replace(long, replicas=1, learning_rate=rate))
    for key in params:
        np.testing.assert_allclose(wrong_run.params[key], faster.params[key], rtol=0, atol=1e-13)


@pytest.mark.parametrize("replicas", [2, 4])
def test_averaging_the_towers_gradients_of_a_summed_loss_trains_at_one_nth(replicas):
    cfg = TrainConfig(dtype="float64", steps=1)  # the seed: sum of squares, rate 1.0
    x, y = xor_data("float64")
    params = init_params(cfg)
    spread = replace(cfg, replicas=replicas)
    right = distributed.train(params, x, y, spread)
    wrong = distributed.train(params, x, y, spread, scaling="averaged")
    rate = effective_rate(wrong.params, right.params, params, cfg.learning_rate)
    assert rate == pytest.approx(cfg.learning_rate / replicas, rel=1e-12)
    long = replace(spread, steps=500)
    wrong_run = distributed.train(params, x, y, long, scaling="averaged")
    slower = tf_impl.train(params, x, y, replace(long, replicas=1, learning_rate=rate))
    for key in params:
        np.testing.assert_allclose(wrong_run.params[key], slower.params[key], rtol=0, atol=1e-14)


def fit_with_keras_mean_loss(params: dict, x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> dict:
    """One ``fit`` step of Keras's own ``MeanSquaredError()`` under the strategy."""
    with floatx(cfg.dtype), mirrored_strategy(cfg.replicas).scope():
        model = build_model(params, cfg)
        model.compile(optimizer=keras_optimizer(cfg, "exact"), loss=keras.losses.MeanSquaredError())
        zeros = keras.ops.zeros((1, 1), dtype=cfg.dtype)
        model.compute_loss(y=zeros, y_pred=zeros, training=False)
    with floatx(cfg.dtype):
        model.fit(tf_dataset(x, y, cfg), epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)
    return get_params(model, cfg)


def test_keras_mean_loss_under_fit_is_the_global_mean_only_for_equal_shares():
    cfg = TrainConfig(loss="mean_squares", dtype="float64", steps=1, replicas=2)
    params = init_params(cfg)
    rate = cfg.learning_rate
    # 4 rows on 2 replicas, 2 + 2: Keras's 1/N makes the global mean
    x, y = xor_data("float64")
    even = fit_with_keras_mean_loss(params, x, y, cfg)
    _, global_grads = manual_impl.loss_and_grads(params, x, y, cfg)
    for key in params:
        np.testing.assert_allclose(even[key], params[key] - rate * global_grads[key], atol=1e-15)
    # 5 rows, 3 + 2: each share's mean times 1/2, so a row of the first weighs 1/6, not 1/5
    x, y = noisy_xor(5, seed=1, dtype="float64")
    uneven = fit_with_keras_mean_loss(params, x, y, cfg)
    share_grads = [
        manual_impl.loss_and_grads(params, x[s], y[s], cfg)[1] for s in ([0, 1, 2], [3, 4])
    ]
    _, global_grads = manual_impl.loss_and_grads(params, x, y, cfg)
    worst = 0.0
    for key in params:
        keras_step = params[key] - rate * (share_grads[0][key] + share_grads[1][key]) / 2
        np.testing.assert_allclose(uneven[key], keras_step, atol=1e-15)
        right_step = params[key] - rate * global_grads[key]
        worst = max(worst, float(np.max(np.abs(uneven[key] - right_step))))
    assert worst > 1e-3  # measured 2.9e-3 on one step of rate 1.0
    # keras_impl's exact loss divides by the global count and makes the one-device step
    exact = tf_impl.train(params, x, y, cfg)
    for key in params:
        np.testing.assert_allclose(
            exact.params[key], params[key] - rate * global_grads[key], atol=1e-15
        )


def test_plain_keras_fit_fails_on_a_first_batch_the_replicas_share_unevenly():
    """Keras 3.15 averages the first batch over the replicas before fit (``keras_impl.model``
    steps around it); the day this passes no more, the workaround can go."""
    cfg = TrainConfig(loss="mean_squares", dtype="float64", steps=1, replicas=2)
    x, y = noisy_xor(5, seed=1, dtype="float64")
    with floatx("float64"), mirrored_strategy(2).scope():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(tf.errors.InvalidArgumentError, match="same size and shape"):
            model.fit(tf_dataset(x, y, cfg), epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)


def test_compute_average_loss_needs_the_global_batch_size_when_shares_are_uneven():
    """A custom loop's ``tf.nn.compute_average_loss`` without ``global_batch_size`` divides by
    its own rows times N: right for equal shares, wrong for the uneven last batch."""
    strategy = mirrored_strategy(2)
    per_example = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # shares 3 + 2, as a batch of 5 is split
    dataset = tf.data.Dataset.from_tensors(per_example)
    values = next(iter(strategy.experimental_distribute_dataset(dataset)))

    def summed(**kwargs) -> float:
        losses = strategy.run(lambda v: tf.nn.compute_average_loss(v, **kwargs), args=(values,))
        return float(strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None))

    assert summed(global_batch_size=5) == pytest.approx(15 / 5, rel=1e-15)
    assert summed() == pytest.approx(6 / (3 * 2) + 9 / (2 * 2), rel=1e-15)  # 3.25, not 3
