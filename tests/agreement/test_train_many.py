"""train_many: K nets trained at once equal K separate ``train`` calls, net by net.

Expected values come from the single-net ``train`` of the same implementation, run once per net.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import manual_impl
import tf_impl
from backprop_suite.core import TrainConfig, noisy_xor, xor_data
from backprop_suite.core.many import init_stack
from manual_impl.many import train_many as numpy_many
from tf_impl.many import train_many as tf_many

SEEDS = list(range(8))
# Configs covering every activation, loss, optimizer, both decays and the three batch schedules,
# each on XOR or 20 noisy XOR rows. RMSProp runs 100 steps: it divides by a running gradient
# size, and by 500 steps a rounding difference in a near-zero gradient grows to 2.0e-3, as large
# between one NumPy net and TF's (measured the same) as between the stack and one net.
CONFIGS = {
    "seed": TrainConfig(dtype="float64"),
    "momentum, nesterov, tanh, half, shuffled batches of 3, 2-4-3-1": TrainConfig(
        dtype="float64",
        layers=(2, 4, 3, 1),
        activation="tanh",
        loss="half_sum_squares",
        optimizer="momentum",
        optimizer_args={"momentum": 0.9, "use_nesterov": True},
        learning_rate=0.05,
        batch_size=3,
        shuffle=True,
    ),
    "adam, relu, mean, xavier, per sample": TrainConfig(
        dtype="float64",
        activation="relu",
        loss="mean_squares",
        init="xavier",
        optimizer="adam",
        learning_rate=0.01,
        batch_size=1,
        steps=200,
    ),
    "rmsprop, sigmoid, decay": TrainConfig(
        dtype="float64",
        optimizer="rmsprop",
        learning_rate=0.01,
        decay_steps=100,
        decay_rate=0.5,
        steps=100,
    ),
    "adagrad, staircase decay, noisy_xor": TrainConfig(
        dtype="float64",
        optimizer="adagrad",
        learning_rate=0.5,
        decay_steps=50,
        decay_rate=0.7,
        staircase=True,
    ),
}


def data_for(name: str, dtype: str):
    return noisy_xor(20, seed=2, dtype=dtype) if "noisy_xor" in name else xor_data(dtype)


def largest_per_net(many, single_runs) -> list[float]:
    worst = []
    for k, one in enumerate(single_runs):
        net = many.net(k)
        gaps = [np.max(np.abs(net.params[key] - one.params[key])) for key in one.params]
        gaps += [np.max(np.abs(net.losses - one.losses)), np.max(np.abs(net.outputs - one.outputs))]
        worst.append(float(max(gaps)))
    return worst


def many_net(stack: dict, k: int) -> dict:
    return {key: value[k] for key, value in stack.items()}


@pytest.mark.parametrize("name", CONFIGS)
def test_numpy_stack_equals_each_nets_own_run_within_1e_12(name):
    """Measured: at most 1.7e-14 (the seed, 500 steps)."""
    cfg = CONFIGS[name]
    x, y = data_for(name, cfg.dtype)
    stack = init_stack(cfg, SEEDS)
    many = numpy_many(stack, x, y, cfg)
    singles = [manual_impl.train(many_net(stack, k), x, y, cfg) for k in range(len(SEEDS))]
    assert max(largest_per_net(many, singles)) <= 1e-12


# Measured in float64: bit for bit except the 2-4-3-1 net (1.4e-14 after 500 steps, 5.6e-17
# after one): TF's batched matmul kernel and its 2-D one round some shapes differently.
TF_NOT_BIT_FOR_BIT = {"momentum, nesterov, tanh, half, shuffled batches of 3, 2-4-3-1": 1e-13}


@pytest.mark.parametrize("name", CONFIGS)
def test_tf_stack_equals_each_nets_own_run(name):
    cfg = CONFIGS[name]
    x, y = data_for(name, cfg.dtype)
    stack = init_stack(cfg, SEEDS)
    many = tf_many(stack, x, y, cfg)
    singles = [tf_impl.train(many_net(stack, k), x, y, cfg) for k in range(len(SEEDS))]
    assert max(largest_per_net(many, singles)) <= TF_NOT_BIT_FOR_BIT.get(name, 0.0)


def test_tf_stack_in_float32_parts_from_one_net_at_the_first_step():
    """The seed in float32: 2.4e-7 after one step, 2.1e-5 after 500 (measured), the same
    kernels' rounding as above; with TF_ENABLE_ONEDNN_OPTS=0 too."""
    cfg = TrainConfig(steps=1)
    x, y = xor_data()
    stack = init_stack(cfg, SEEDS)
    many = tf_many(stack, x, y, cfg)
    singles = [tf_impl.train(many_net(stack, k), x, y, cfg) for k in range(len(SEEDS))]
    assert 0 < max(largest_per_net(many, singles)) <= 4 * 1.2e-7


def test_shuffled_nets_share_one_permutation_per_epoch():
    """Two different seeds' nets in one stack see the batches the config's seed draws: each
    equals its own run with that config, not with its own seed's shuffling."""
    cfg = TrainConfig(dtype="float64", batch_size=2, shuffle=True, seed=5, steps=12)
    x, y = xor_data("float64")
    stack = init_stack(cfg, [0, 1])
    many = numpy_many(stack, x, y, cfg)
    for k in range(2):
        own = manual_impl.train(many_net(stack, k), x, y, cfg)
        np.testing.assert_allclose(many.net(k).losses, own.losses, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {**s, "m1": s["m1"][:, :, :2]}, "weight m1 has shape (3, 2, 2)"),
        (lambda s: {**s, "b2": s["b2"][:2]}, "different numbers of nets: [2, 3]"),
        (lambda s: {k: v[:0] for k, v in s.items()}, "holds no net"),
        (lambda s: {k: v for k, v in s.items() if k != "b1"}, "missing weight keys ['b1']"),
        (lambda s: {**s, "m1": np.full_like(s["m1"], np.nan)}, "weight m1 contains NaN"),
    ],
)
def test_a_bad_stack_is_refused_before_training(change, message):
    cfg = TrainConfig()
    x, y = xor_data()
    stack = change(init_stack(cfg, [0, 1, 2]))
    for train_many in (numpy_many, tf_many):
        with pytest.raises(ValueError, match=re.escape(message)):
            train_many(stack, x, y, cfg)


def test_the_profile_counts_and_times_tfs_batched_matmuls():
    from backprop_suite.bench.many_nets import batched_matmul_us, batched_matmuls_per_step

    assert batched_matmuls_per_step(TrainConfig()) >= 2  # at least the forward pass's two layers
    assert batched_matmuls_per_step(TrainConfig(layers=(2, 3, 3, 1))) > batched_matmuls_per_step(
        TrainConfig()
    )
    assert np.isfinite(batched_matmul_us(nets=100, steps=5, repeats=1))
