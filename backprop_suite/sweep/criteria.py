"""When a net has learned XOR: the criteria a sweep can judge by, one function each.

Each takes the nets' outputs on the training rows, (K, samples, outputs), the targets
(samples, outputs) and the configuration, and says for every net whether it has learned them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_suite.core import TrainConfig
from manual_impl.losses import loss_value

DEFAULT = "sides"
HELP = (
    "sides: every output on its target's side of 0.5 (default); within:D: every output within D "
    "of its target (within:0.15 is the seed article's end); loss:L: the loss below L"
)


def loss_of(cfg: TrainConfig, y0: np.ndarray, y_out: np.ndarray) -> np.ndarray:
    """Each net's ``cfg.loss`` on all the rows, (K,), from its outputs (K, samples, outputs)."""
    return loss_value(cfg.loss, np.square(y0 - y_out).sum(axis=(1, 2)), y0.size)


@dataclass(frozen=True)
class Criterion:
    text: str
    learned: Callable[[np.ndarray, np.ndarray, TrainConfig], np.ndarray]


def on_the_right_side(y_out: np.ndarray, y0: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    # a NaN output is on neither side
    return np.all(((y_out > 0.5) == (y0 > 0.5)) & np.isfinite(y_out), axis=(1, 2))


def parse_criterion(text: str) -> Criterion:
    name, colon, value = text.partition(":")
    if text == "sides":
        return Criterion(text, on_the_right_side)
    try:
        bound = float(value) if colon and name in ("within", "loss") else None
    except ValueError:
        bound = None
    if bound is None or not np.isfinite(bound) or bound <= 0:
        raise ValueError(f"--criterion takes one of: {HELP}; got {text!r}")
    if name == "within":
        return Criterion(text, lambda y_out, y0, cfg: np.all(np.abs(y_out - y0) < bound, (1, 2)))
    return Criterion(text, lambda y_out, y0, cfg: loss_of(cfg, y0, y_out) < bound)
