"""The three losses and their derivative with respect to the network's output y_out."""

from __future__ import annotations

import numpy as np


def loss_value(name: str, y0: np.ndarray, y_out: np.ndarray) -> np.ndarray:
    error = y0 - y_out
    if name == "sum_squares":
        return np.sum(np.square(error))
    if name == "half_sum_squares":
        return 0.5 * np.sum(np.square(error))
    return np.sum(np.square(error)) / error.size


def dloss_dyout(name: str, y0: np.ndarray, y_out: np.ndarray) -> np.ndarray:
    error = y0 - y_out
    if name == "sum_squares":
        return -2 * error
    if name == "half_sum_squares":
        return -error
    return -2 * error / error.size
