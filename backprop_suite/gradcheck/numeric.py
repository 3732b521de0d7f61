"""The numeric side of a gradient check: five-point central differences in float64, a step for
every element from its own scale (smaller where the function turns within the stencil), and
the one-sided slopes that show a kink.

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
    """For every element: the five-point central difference, the step it was taken at, the
    difference between the slope on its right and on its left at that step and at twice it
    (``jump_h``, ``jump_2h``: a smooth function gives h·f″ and 2h·f″, a kink at the point the
    same jump at both), and ``rough``: no two steps in ``REFINEMENTS`` gave the same slope (a
    kink within the stencil, whatever the step)."""

    central: np.ndarray
    jump_h: np.ndarray
    jump_2h: np.ndarray
    step: np.ndarray
    rough: np.ndarray


REFINEMENTS = 4  # steps h, h/10, h/100, h/1000, h/10000


def stencil(f: Callable[[np.ndarray], float], at: np.ndarray, index: tuple, step: float) -> dict:
    values = {}
    for k in (2, 1, -1, -2):
        shifted = at.copy()
        shifted[index] += k * step
        values[k] = f(shifted)
    return values


def slopes(
    f: Callable[[np.ndarray], float], at: np.ndarray, close: Callable[[float, float], bool]
) -> Slopes:
    """``f`` (a float64 function of an array shaped as ``at``) differentiated numerically, one
    element at a time. The five-point slope at step h is taken when the one at h/10 is
    ``close`` to it; otherwise the step shrinks tenfold until two in a row agree (a ReLU unit,
    say, that turns within the stencil: a smaller one leaves the kink outside it), and an
    element where none agree is ``rough``. Nine evaluations an element where f is smooth."""
    at = np.asarray(at, np.float64)
    h = steps(at)
    central, jump_h, jump_2h, used = (np.zeros_like(at) for _ in range(4))
    rough = np.zeros(at.shape, bool)
    middle = f(at)
    for index in np.ndindex(at.shape):
        step = h[index]
        values = stencil(f, at, index, step)
        estimate = five_point(values[2], values[1], values[-1], values[-2], step)
        for _ in range(REFINEMENTS):
            finer_values = stencil(f, at, index, step / 10)
            finer = five_point(*(finer_values[k] for k in (2, 1, -1, -2)), step / 10)
            if close(estimate, finer):
                break
            step, values, estimate = step / 10, finer_values, finer
        else:
            rough[index] = True
        central[index], used[index] = estimate, step
        jump_h[index] = (values[1] - middle) / step - (middle - values[-1]) / step
        jump_2h[index] = (values[2] - middle) / (2 * step) - (middle - values[-2]) / (2 * step)
    return Slopes(central, jump_h, jump_2h, used, rough)


def kinks(found: Slopes, scale: float) -> np.ndarray:
    """The elements where the one-sided slopes differ by the same amount at h and at 2h (a jump
    in the derivative at the point, not curvature) by more than ``scale``, or that are
    ``rough``: a boolean mask."""
    big = np.abs(found.jump_h) > scale
    same = np.abs(found.jump_2h - found.jump_h) < 0.25 * np.abs(found.jump_h)
    return (big & same) | found.rough


def directional(f: Callable[[np.ndarray], float], at: np.ndarray, direction: np.ndarray) -> float:
    """The five-point difference of ``f`` along ``direction`` (of norm 1), step from the
    largest element's scale."""
    at = np.asarray(at, np.float64)
    h = float(RELATIVE_STEP * max(1.0, float(np.max(np.abs(at), initial=0.0))))
    return five_point(*(f(at + k * h * direction) for k in (2, 1, -1, -2)), h)
