"""Data-parallel training through tf.distribute: N replicas against one device.

The CPU is split into four logical devices in ``conftest.py``, before TensorFlow starts.

Measured here (``python -m pytest tests/distributed/test_distributed.py``), weights, outputs and
every step's loss, N = 2 and 4 against one device, on the cases below: at most 4.7e-15 in float64
and 1.7e-6 in float32. The cause is the order of the batch's sum: each replica sums its own rows and
the all-reduce adds the replicas' sums, where one device sums all rows in one pass.
``test_the_difference_is_only_the_order_of_the_sum`` proves it: a one-device run that sums the same
shares in the same order is bit for bit the N-replica run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

import keras_impl
import tf_impl
from backprop_suite.core import TrainConfig, init_params, noisy_xor, xor_data
from backprop_suite.distribute.devices import mirrored_strategy
from backprop_suite.verify.tolerances import REPLICAS
from tf_impl import distributed
from tf_impl.losses import loss_of
from tf_impl.network import layer_outputs

# name: (rows (None: XOR), batch_size, loss, learning rate). 22 rows in batches of 7 are steps of
# 7, 7, 7 and 1 row: shares 4+3 and 1+0 on two replicas, 2+2+2+1 and 1+0+0+0 on four
CASES = {
    "xor, full batch": (None, None, "sum_squares", 1.0),
    "noisy_xor, full batch, mean": (22, None, "mean_squares", 1.0),
    "noisy_xor, batches of 7, uneven": (22, 7, "sum_squares", 0.1),
    "noisy_xor, batches of 5, uneven, mean": (22, 5, "mean_squares", 1.0),
}


def case(name: str, dtype: str, steps: int = 500) -> tuple:
    """(cfg, params, x, y) of the case ``name``."""
    rows, batch_size, loss, rate = CASES[name]
    cfg = TrainConfig(
        dtype=dtype, batch_size=batch_size, loss=loss, learning_rate=rate, steps=steps
    )
    x, y = xor_data(dtype) if rows is None else noisy_xor(rows, seed=1, dtype=dtype)
    return cfg, init_params(cfg), x, y


def largest(a, b) -> dict[str, float]:
    weights = max(float(np.max(np.abs(a.params[k] - b.params[k]))) for k in a.params)
    return {
        "weights": weights,
        "outputs": float(np.max(np.abs(a.outputs - b.outputs))),
        "losses": float(np.max(np.abs(a.losses - b.losses))),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", CASES)
def test_replicas_agree_with_one_device(name, dtype):
    cfg, params, x, y = case(name, dtype)
    one_device = tf_impl.train(params, x, y, cfg)
    for replicas in (2, 4):
        custom_loop = tf_impl.train(params, x, y, replace(cfg, replicas=replicas))
        gaps = largest(custom_loop, one_device)
        assert max(gaps.values()) <= REPLICAS[dtype].atol, (replicas, gaps)


# Keras's distributed fit costs a model, a trace and about 5 ms a step per case: CI runs two
# cases that cover both losses, both dtypes, even and uneven shares and an empty replica;
# ``python -m pytest -m exhaustive tests/distributed/test_distributed.py`` runs all eight.
FIT_CASES = [
    ("xor, full batch", "float32"),
    ("noisy_xor, batches of 5, uneven, mean", "float64"),
]
ALL_FIT_CASES = [(name, dtype) for name in CASES for dtype in ("float32", "float64")]


def check_fit_is_the_custom_loop(name: str, dtype: str) -> None:
    cfg, params, x, y = case(name, dtype, steps=50)
    for replicas in (2, 4):
        spread = replace(cfg, replicas=replicas)
        custom_loop = tf_impl.train(params, x, y, spread)
        fitted = keras_impl.train(params, x, y, spread)
        for key in params:
            np.testing.assert_array_equal(fitted.params[key], custom_loop.params[key])
        np.testing.assert_array_equal(fitted.outputs, custom_loop.outputs)
        # the recorded loss is summed over the replicas by another path: a rounding apart
        np.testing.assert_allclose(
            fitted.losses, custom_loop.losses, rtol=2 * np.finfo(dtype).eps, atol=0
        )


@pytest.mark.cpu_kernels
@pytest.mark.parametrize(("name", "dtype"), FIT_CASES)
def test_fit_under_a_strategy_is_the_custom_loop_bit_for_bit(name, dtype):
    check_fit_is_the_custom_loop(name, dtype)


@pytest.mark.exhaustive
@pytest.mark.parametrize(("name", "dtype"), [c for c in ALL_FIT_CASES if c not in FIT_CASES])
def test_fit_is_the_custom_loop_in_every_case(name, dtype):
    check_fit_is_the_custom_loop(name, dtype)


def test_one_replica_is_one_device_bit_for_bit():
    cfg, params, x, y = case("noisy_xor, batches of 5, uneven, mean", "float32")
    one_device = tf_impl.train(params, x, y, cfg)
    through_strategy = distributed.train(params, x, y, cfg, strategy=mirrored_strategy(1))
    assert largest(through_strategy, one_device) == {"weights": 0, "outputs": 0, "losses": 0}


def shares(rows: np.ndarray, replicas: int) -> list[np.ndarray]:
    per_replica = -(-len(rows) // replicas)
    starts = range(0, per_replica * replicas, per_replica)
    return [rows[start : start + per_replica] for start in starts]


def compiled_loss_and_grads(cfg: TrainConfig):
    """A share's loss and gradients computed by a graph, as the replicas compute theirs: eager
    execution runs other kernels (in a float32 graph oneDNN fuses each layer's matmul, bias and
    activation into one), and the two can round apart."""

    @tf.function
    def loss_and_grads(weights, x0, y0):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = loss_of(y0, layer_outputs(weights, x0, cfg)[-1], cfg)
        return loss, tape.gradient(loss, weights)

    return loss_and_grads


@pytest.mark.cpu_kernels
@pytest.mark.parametrize("replicas", [2, 4])
def test_the_difference_is_only_the_order_of_the_sum(replicas):
    """Plain gradient descent on one device, each step's gradient the sum of the replicas'
    shares' gradients (each share's computed by a graph, added by ``tf.add_n`` as the all-reduce
    adds them), is the N-replica run bit for bit; the one-pass gradient is not."""
    cfg, params, x, y = case("xor, full batch", "float32", steps=100)
    spread = distributed.train(params, x, y, replace(cfg, replicas=replicas))
    share_loss_and_grads = compiled_loss_and_grads(cfg)
    keys = list(cfg.param_shapes())
    weights = [params[key].copy() for key in keys]
    rate = np.float32(cfg.learning_rate)
    losses = []
    for _ in range(cfg.steps):
        parts = [
            share_loss_and_grads([tf.constant(w) for w in weights], x[rows], y[rows])
            for rows in shares(np.arange(len(x)), replicas)
        ]
        losses.append(tf.add_n([loss for loss, _ in parts]).numpy())
        sums = [tf.add_n([grads[i] for _, grads in parts]).numpy() for i in range(len(keys))]
        weights = [w - rate * g for w, g in zip(weights, sums)]
    for key, w in zip(keys, weights):
        np.testing.assert_array_equal(spread.params[key], w)
    np.testing.assert_array_equal(spread.losses, np.array(losses))
    one_device = tf_impl.train(params, x, y, cfg)
    assert max(np.max(np.abs(one_device.params[k] - w)) for k, w in zip(keys, weights)) > 0


@pytest.mark.parametrize(("rows", "replicas", "expected"), [(5, 2, [3, 2]), (2, 4, [1, 1, 0, 0])])
def test_a_batch_is_shared_as_the_distributed_dataset_shares_it(rows, replicas, expected):
    """What ``fit`` sees (``experimental_distribute_dataset``) is what the custom loop splits."""
    strategy = mirrored_strategy(replicas)
    dataset = tf.data.Dataset.range(rows).batch(rows)
    first_batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
    seen = strategy.experimental_local_results(first_batch)
    assert [len(part) for part in seen] == expected
    bounds = [distributed.share_bounds(tf.constant(rows), i, replicas) for i in range(replicas)]
    assert [int(stop - start) for start, stop in bounds] == expected
    assert [part.numpy().tolist() for part in seen] == [
        list(range(int(start), int(stop))) for start, stop in bounds
    ]


@pytest.mark.parametrize("replicas", [0, -1, 1.0, True, "2"])
def test_a_replica_count_that_is_not_a_positive_integer_is_refused(replicas):
    with pytest.raises(ValueError, match="replicas must be a positive integer"):
        TrainConfig(replicas=replicas)


def test_the_single_device_references_refuse_replicas():
    import manual_impl
    from backprop_suite.reference import tf1 as tf1_reference
    from keras_impl.backends import run_many

    cfg, params, x, y = case("xor, full batch", "float32")
    spread = replace(cfg, replicas=2)
    for name, train in (("manual_impl", manual_impl.train), ("tf1", tf1_reference.train)):
        with pytest.raises(ValueError, match=f"{name} trains on one device; replicas=2"):
            train(params, x, y, spread)
    with pytest.raises(ValueError, match="keras-jax trains on one device"):
        run_many("jax", [(params, x, y, spread)])


def test_what_data_parallel_training_refuses():
    cfg, params, x, y = case("xor, full batch", "float32")
    spread = replace(cfg, replicas=2)
    with pytest.raises(ValueError, match="mode 'loop' only, not 'step'"):
        tf_impl.train(params, x, y, spread, mode="step")
    with pytest.raises(ValueError, match="mode 'one_epoch' only, not 'train_on_batch'"):
        keras_impl.train(params, x, y, spread, mode="train_on_batch")
    with pytest.raises(ValueError, match="cfg.replicas is 2 but the strategy has 4"):
        distributed.train(params, x, y, spread, strategy=mirrored_strategy(4))
    with pytest.raises(ValueError, match="cfg.replicas is 2 but the strategy has 4"):
        keras_impl.train(params, x, y, spread, strategy=mirrored_strategy(4))
    with pytest.raises(ValueError, match="unknown scaling 'mean'"):
        distributed.train(params, x, y, spread, scaling="mean")


def test_more_devices_than_tensorflow_started_with_is_a_clear_error():
    from backprop_suite.distribute.devices import split_cpu

    tf.constant(1.0) + 1  # TensorFlow has started (conftest split the CPU in four)
    split_cpu(4)  # as many as there are: nothing to do
    with pytest.raises(
        ValueError, match=r"started with 4: call backprop_suite.distribute.devices.split_cpu\(8\)"
    ):
        split_cpu(8)
    with pytest.raises(ValueError, match="8 replicas need 8 logical CPU devices"):
        tf_impl.train(*case("xor, full batch", "float32")[1:], replace(TrainConfig(), replicas=8))
