"""The article's three ways to update: per sample, full batch, (shuffled) mini-batches.
All four implementations follow the same schedule to the same numbers."""

import keras
import numpy as np
import pytest
from implementations import assert_close, assert_identical

import keras_impl
import manual_impl
import tf_impl
from backprop_suite.core import (
    TrainConfig,
    init_params,
    noisy_xor,
    step_batches,
    xavier_limit,
    xor_data,
)
from backprop_suite.reference import tf1 as tf1_reference

DATASETS = {"xor": xor_data("float64"), "noisy_xor": noisy_xor(10, noise=0.1, seed=3)}
SCHEDULES = {
    # name: (batch size for XOR (4 rows), for noisy_xor (10 rows), shuffle)
    "per sample": (1, 1, False),
    "mini-batches that divide n": (2, 5, False),
    "mini-batches that do not divide n": (3, 4, False),
    "shuffled mini-batches": (3, 4, True),
    "shuffled full batches": (None, None, True),
}


def schedule_config(dataset, schedule, **overrides):
    xor_batch, noisy_batch, shuffle = SCHEDULES[schedule]
    batch_size = xor_batch if dataset == "xor" else noisy_batch
    return TrainConfig(
        batch_size=batch_size, shuffle=shuffle, steps=40, dtype="float64", seed=1, **overrides
    )


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_all_four_implementations_follow_the_schedule_alike(dataset, schedule):
    x, y = DATASETS[dataset]
    cfg = schedule_config(dataset, schedule)
    params = init_params(cfg)
    manual, tf2, keras_run, tf1 = (
        impl.train(params, x, y, cfg) for impl in (manual_impl, tf_impl, keras_impl, tf1_reference)
    )
    assert_identical(tf1, tf2)
    assert_identical(keras_run, tf2)
    assert_close(manual, tf2, atol=1e-12)


@pytest.mark.parametrize("dataset", DATASETS)
def test_shuffling_changes_the_run(dataset):
    x, y = DATASETS[dataset]
    shuffled = schedule_config(dataset, "shuffled mini-batches")
    in_order = TrainConfig(**{**vars(shuffled), "shuffle": False})
    params = init_params(shuffled)
    a, b = manual_impl.train(params, x, y, shuffled), manual_impl.train(params, x, y, in_order)
    assert np.max(np.abs(a.losses - b.losses)) > 1e-3


def test_the_schedule_is_what_every_implementation_is_fed():
    # per-sample updates on XOR: one row per step, rows in order, the loss of that row alone
    x, y = xor_data("float64")
    cfg = TrainConfig(batch_size=1, steps=4, dtype="float64")
    assert [b.tolist() for b in step_batches(4, cfg)] == [[0], [1], [2], [3]]
    params = init_params(cfg)
    first_row_loss, _ = manual_impl.loss_and_grads(params, x[:1], y[:1], cfg)
    assert tf1_reference.train(params, x, y, cfg).losses[0] == pytest.approx(
        first_row_loss, abs=1e-15
    )


def test_a_partial_last_batch_is_kept_as_keras_does():
    # 5 rows in batches of 2: Keras's fit gives batches of 2, 2, 1 each epoch
    sizes = [len(b) for b in step_batches(5, TrainConfig(batch_size=2, steps=6))]
    assert sizes == [2, 2, 1, 2, 2, 1]
    dataset_sizes = []
    x = np.arange(10.0).reshape(5, 2)

    class Sizes(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            dataset_sizes.append(batch)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(
        x, x[:, :1], batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[Sizes()]
    )
    assert dataset_sizes == [0, 1, 2] and len(history.history["loss"]) == 1


@pytest.mark.parametrize("shape", [(2, 3), (3, 1), (64, 32)])
def test_xavier_kernels_share_keras_glorot_uniform_bounds(shape):
    limit = xavier_limit(*shape)
    ours = np.concatenate(
        [
            init_params(TrainConfig(layers=shape, init="xavier", dtype="float64"), seed=s)[
                "m1"
            ].ravel()
            for s in range(300)
        ]
    )
    theirs = np.concatenate(
        [np.asarray(keras.initializers.GlorotUniform(seed=s)(shape)).ravel() for s in range(300)]
    )
    for sample in (ours, theirs):
        assert np.all(np.abs(sample) <= limit)
        assert sample.max() > 0.97 * limit and sample.min() < -0.97 * limit
        assert abs(sample.mean()) < 0.05 * limit
    # a uniform distribution on [-limit, limit] has standard deviation limit / sqrt(3)
    assert ours.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    assert theirs.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)


def test_xavier_biases_are_zero_as_keras_dense_defaults():
    params = init_params(TrainConfig(layers=(2, 4, 3, 1), init="xavier"))
    assert all(not np.any(params[k]) for k in ("b1", "b2", "b3"))
    dense = keras.layers.Dense(3)
    dense.build((None, 2))
    assert not np.any(np.asarray(dense.bias))


def test_noisy_xor_is_xor_with_noise():
    x, y = noisy_xor(400, noise=0.05, seed=1)
    corners = np.round(x)
    assert np.array_equal(y[:, 0], np.logical_xor(corners[:, 0], corners[:, 1]))
    assert 0.04 < np.std(x - corners) < 0.06
    assert np.array_equal(noisy_xor(400, 0.05, 1)[0], x)
    with pytest.raises(ValueError, match="positive integer n"):
        noisy_xor(0)
    with pytest.raises(ValueError, match="finite noise"):
        noisy_xor(4, noise=-1.0)
