"""Initial weights, drawn reproducibly from a seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backprop_suite.core.config import TrainConfig

UNIFORM_LOW, UNIFORM_HIGH = 0.1, 0.9


def xavier_limit(fan_in: int, fan_out: int) -> float:
    """Glorot/Xavier uniform bound: kernels are drawn in [-limit, limit]."""
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def per_weight_seeds(cfg: TrainConfig, op_seeds: Sequence[int] | None) -> list[int | None]:
    """One op-level seed per weight, in the order m1, b1, m2, b2, …; ``None``: no op seeds."""
    count = len(cfg.param_shapes())
    seeds = [None] * count if op_seeds is None else list(op_seeds)
    if len(seeds) != count:
        raise ValueError(f"need {count} op seeds (one per weight), got {len(seeds)}")
    return seeds


def init_params(cfg: TrainConfig, seed: int | None = None) -> dict[str, np.ndarray]:
    """Weights ``m1, b1, m2, b2, …`` of ``cfg.dtype``, drawn from ``seed`` (default ``cfg.seed``).

    ``init="uniform"`` draws every weight and bias in [0.1, 0.9], as the seed program's
    ``tf.random_uniform(minval=0.1, maxval=0.9)``; ``init="xavier"`` draws Glorot-uniform
    kernels and zero biases, Keras ``Dense``'s defaults.
    """
    seed = cfg.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in cfg.param_shapes().items():
        if cfg.init == "uniform":
            values = rng.uniform(UNIFORM_LOW, UNIFORM_HIGH, size=shape)
        elif name.startswith("m"):
            limit = xavier_limit(*shape)
            values = rng.uniform(-limit, limit, size=shape)
        else:
            values = np.zeros(shape)
        params[name] = values.astype(cfg.dtype)
    return params
