"""The numeric side of a gradient check: five-point central differences in float64, a step for
every element from its own scale, and the one-sided slopes that show a kink.

A step ``h = H · max(1, |x|)`` with ``H = 1e-3``: the five-point rule's truncation error is
O(h⁴ f⁽⁵⁾) and its rounding O(ε f / h); in float64 (ε = 2.2e-16) the two meet near
ε^(1/5) ≈ 7e-4, so an element near 1000 gets a step near 1, one near 0.001 the same step as 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_suite.verify.finite_differences import five_point

RELATIVE_STEP = 1e-3


def steps(value: np.ndarray) -> np.ndarray:
    """The step of every element of ``value``, from its own scale."""
    return RELATIVE_STEP * np.maximum(1.0, np.abs(np.asarray(value, np.float64)))


@dataclass
class Slopes:
    """For every element: the five-point central difference, and the difference between the
    slope on its right and on its left at steps h and 2h (``jump_h``, ``jump_2h``). A smooth
    function gives jumps of h·f″ and 2h·f″; a kink gives the same jump at both steps."""

    central: np.ndarray
    jump_h: np.ndarray
    jump_2h: np.ndarray
    step: np.ndarray


def slopes(f: Callable[[np.ndarray], float], at: np.ndarray) -> Slopes:
    """``f`` (a float64 function of an array shaped as ``at``) differentiated numerically, one
    element at a time: five evaluations each."""
    at = np.asarray(at, np.float64)
    h = steps(at)
    central, jump_h, jump_2h = (np.zeros_like(at) for _ in range(3))
    middle = f(at)
    for index in np.ndindex(at.shape):
        moved = {}
        for k in (2, 1, -1, -2):
            shifted = at.copy()
            shifted[index] += k * h[index]
            moved[k] = f(shifted)
        step = h[index]
        central[index] = five_point(moved[2], moved[1], moved[-1], moved[-2], step)
        jump_h[index] = (moved[1] - middle) / step - (middle - moved[-1]) / step
        jump_2h[index] = (moved[2] - middle) / (2 * step) - (middle - moved[-2]) / (2 * step)
    return Slopes(central, jump_h, jump_2h, h)


def kinks(found: Slopes, scale: float) -> np.ndarray:
    """The elements where the one-sided slopes differ by the same amount at h and at 2h (a jump
    in the derivative, not curvature), by more than ``scale``: a boolean mask."""
    big = np.abs(found.jump_h) > scale
    same = np.abs(found.jump_2h - found.jump_h) < 0.25 * np.abs(found.jump_h)
    return big & same


def directional(f: Callable[[np.ndarray], float], at: np.ndarray, direction: np.ndarray) -> float:
    """The five-point difference of ``f`` along ``direction`` (of norm 1), step from the
    largest element's scale."""
    at = np.asarray(at, np.float64)
    h = float(RELATIVE_STEP * max(1.0, float(np.max(np.abs(at), initial=0.0))))
    return five_point(*(f(at + k * h * direction) for k in (2, 1, -1, -2)), h)
