"""Central finite differences of any loss: the outside oracle for gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def central_differences(
    loss: Callable[[dict], float], params: dict[str, np.ndarray], eps: float = 1e-4
) -> dict[str, np.ndarray]:
    """The five-point central difference for every weight, one at a time:
    (-L(w+2e) + 8 L(w+e) - 8 L(w-e) + L(w-2e)) / 12e, whose error is O(e^4), not O(e^2)."""
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            at = [loss(_shift(params, key, index, k * eps)) for k in (2, 1, -1, -2)]
            grad[index] = five_point(*at, eps)
        grads[key] = grad
    return grads


def five_point(plus_2: float, plus_1: float, minus_1: float, minus_2: float, step: float) -> float:
    """The five-point central difference from f(x + 2h), f(x + h), f(x - h), f(x - 2h)."""
    return (-plus_2 + 8 * plus_1 - 8 * minus_1 + minus_2) / (12 * step)


def _shift(params: dict, key: str, index: tuple, offset: float) -> dict:
    shifted = {k: v.copy() for k, v in params.items()}
    shifted[key][index] += offset
    return shifted


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| / max(|a|, |n|, 1e-3): relative for sizeable gradients, absolute near zero."""
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-3)
    return float(np.max(np.abs(analytic - numeric) / scale))
