"""The three losses and their derivative with respect to the network's output y_out: NumPy's one
table of them, used by the single-net trainer, the many-nets trainer and the sweep's criteria.

Each loss is a scale of the summed squared errors ``total`` over a net's ``elements`` target
values (samples x outputs), and its derivative the same scale of ``-2 (y0 - y_out)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_suite.core.config import choice


@dataclass(frozen=True)
class Loss:
    of_total: Callable[[np.ndarray, int], np.ndarray]
    derivative: Callable[[np.ndarray, int], np.ndarray]


LOSSES = {
    "sum_squares": Loss(lambda total, elements: total, lambda error, elements: -2 * error),
    "half_sum_squares": Loss(lambda total, elements: 0.5 * total, lambda error, elements: -error),
    "mean_squares": Loss(
        lambda total, elements: total / elements, lambda error, elements: -2 * error / elements
    ),
}


def loss_rule(name: str) -> Loss:
    """The table's entry for ``name``; ValueError for a name it does not hold."""
    return choice("loss", name, LOSSES)


def loss_value(name: str, total: np.ndarray, elements: int) -> np.ndarray:
    """The loss from ``total``, the squared errors summed over each net's ``elements``."""
    return loss_rule(name).of_total(total, elements)


def dloss_dyout(name: str, error: np.ndarray, elements: int) -> np.ndarray:
    """dloss/dy_out from ``error = y0 - y_out``."""
    return loss_rule(name).derivative(error, elements)


def net_loss(name: str, y0: np.ndarray, y_out: np.ndarray) -> np.ndarray:
    """One net's loss on its batch: E = scale x sum (y0 - y_out)^2."""
    return loss_value(name, np.sum(np.square(y0 - y_out)), y0.size)
