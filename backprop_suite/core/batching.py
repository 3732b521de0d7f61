"""Which rows each update step sees: full batch, per sample, or (shuffled) mini-batches."""

from __future__ import annotations

import sys

import numpy as np

from backprop_suite.core.config import TrainConfig
from backprop_suite.core.memory import require_fits

# one step's rows, less the rows themselves: a NumPy view and its place in the list
INDEX_ARRAY_BYTES = sys.getsizeof(np.arange(2)[:1]) + 8


def epoch_order(n: int, cfg: TrainConfig, epoch: int) -> np.ndarray:
    """The order of the ``n`` rows in one epoch: as given, or one permutation per epoch."""
    if not cfg.shuffle:
        return np.arange(n)
    return np.random.default_rng([cfg.seed, epoch]).permutation(n)


def require_schedule_fits(n: int, cfg: TrainConfig) -> int:
    """The rows of each batch of ``n`` samples; a ``ValueError`` if ``step_batches``'s row
    indices for ``cfg.steps`` steps cannot fit in memory."""
    batch_size = n if cfg.batch_size is None else min(cfg.batch_size, n)
    per_step = INDEX_ARRAY_BYTES + np.dtype(np.intp).itemsize * batch_size
    require_fits(f"steps {cfg.steps} of {batch_size} rows each", cfg.steps * per_step)
    return batch_size


def step_batches(n: int, cfg: TrainConfig) -> list[np.ndarray]:
    """Row indices for each of ``cfg.steps`` updates.

    An epoch is split into batches of ``batch_size`` rows (``None``: all ``n``); as in Keras,
    the last batch of an epoch holds the rows left over and may be smaller.
    """
    batch_size = require_schedule_fits(n, cfg)
    batches: list[np.ndarray] = []
    epoch = 0
    while len(batches) < cfg.steps:
        order = epoch_order(n, cfg, epoch)
        batches.extend(order[start : start + batch_size] for start in range(0, n, batch_size))
        epoch += 1
    return batches[: cfg.steps]


def is_full_batch(n: int, cfg: TrainConfig) -> bool:
    """True when every step uses all ``n`` rows in their given order (the seed program)."""
    return (cfg.batch_size is None or cfg.batch_size >= n) and not cfg.shuffle
