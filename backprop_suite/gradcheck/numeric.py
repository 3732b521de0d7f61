"""The numeric side of a gradient check: five-point central differences in float64, a step for
every element from its own scale (smaller where the function turns within the stencil), and
the one-sided slopes that show a kink.

A step ``h = H · max(1, |x|)`` with ``H = 1e-3``: the five-point rule's truncation error is
O(h⁴ f⁽⁵⁾) and its rounding O(ε f / h); in float64 (ε = 2.2e-16) the two meet near
ε^(1/5) ≈ 7e-4, so an element near 1000 gets a step near 1, one near 0.001 the same step as 1.

The function is given as ``shifted(elements, deltas)``: its values at the point with the flat
element ``elements[b]`` moved by ``deltas[b]``, for every b at once, so a model can evaluate a
whole stencil level in one call (``flat_loss``); ``one_by_one`` makes one of a plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_suite.verify.finite_differences import five_point

RELATIVE_STEP = 1e-3
REFINEMENTS = 4  # steps h, h/10, h/100, h/1000, h/10000
OFFSETS = (2, 1, -1, -2)  # the stencil's points, in units of the step

Shifted = Callable[[np.ndarray, np.ndarray], np.ndarray]


def steps(value: np.ndarray) -> np.ndarray:
    """The step of every element of ``value``, from its own scale."""
    return RELATIVE_STEP * np.maximum(1.0, np.abs(np.asarray(value, np.float64)))


def direction_step(values: list[np.ndarray]) -> float:
    """The first step along a unit direction over ``values``, from their largest element's
    scale."""
    largest = max(float(np.max(np.abs(v), initial=0.0)) for v in values)
    return RELATIVE_STEP * max(1.0, largest)


def one_by_one(f: Callable[[np.ndarray], float], at: np.ndarray) -> Shifted:
    """``shifted`` for a plain float64 function of an array shaped as ``at``: one call a point."""
    at = np.asarray(at, np.float64)

    def shifted(elements: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        found = np.empty(len(elements))
        for b, (element, delta) in enumerate(zip(elements, deltas)):
            moved = at.copy()
            moved.flat[element] += delta
            found[b] = f(moved)
        return found

    return shifted


@dataclass
class Slopes:
    """For each of ``elements`` (flat indices): the five-point central difference, the step it
    was taken at, and ``rough``: no step down to ``h / 10**REFINEMENTS`` gave a stencil free of
    kinks (a kink at the point, or nearer it than the finest stencil reaches) and of values that
    are not finite; ``not_finite`` tells those apart."""

    elements: np.ndarray
    central: np.ndarray
    step: np.ndarray
    rough: np.ndarray
    not_finite: np.ndarray | None = None  # where a rough element met nan or inf, that value; 0

    def where_not_finite(self) -> np.ndarray:
        """The positions (into ``elements``) of the rough elements whose function values were
        not finite: at the point, or at every stencil down to the finest."""
        if self.not_finite is None:
            return np.zeros(0, int)
        return np.flatnonzero(~np.isfinite(self.not_finite))


def stencils(shifted: Shifted, elements: np.ndarray, step: np.ndarray) -> np.ndarray:
    """f at ``OFFSETS`` times ``step`` from the point along each of ``elements``: (n, 4)."""
    offsets = np.asarray(OFFSETS, np.float64)
    deltas = (step[:, None] * offsets[None, :]).ravel()
    return shifted(np.repeat(elements, len(OFFSETS)), deltas).reshape(len(elements), -1)


def unbent(values: np.ndarray, middle: np.ndarray, step: np.ndarray) -> np.ndarray:
    """How far the one-sided slopes are from parting linearly with the step, beyond float64's
    rounding of the five values: the slope on the right minus the one on the left is h·f″ for a
    smooth function (2h·f″ at 2h), and the same jump at h and 2h where a kink lies within the
    stencil. Zero, to O(h³ f⁗), for a smooth f."""
    apart_h = (values[:, 1] - 2 * middle + values[:, 2]) / step
    apart_2h = (values[:, 0] - 2 * middle + values[:, 3]) / (2 * step)
    rounding = 8 * np.finfo(np.float64).eps * np.max(np.abs(values), axis=1) / step
    return np.maximum(np.abs(apart_2h - 2 * apart_h) - rounding, 0.0)


Level = Callable[[np.ndarray, np.ndarray], np.ndarray]


def settled(
    level: Level, middle: np.ndarray, step: np.ndarray, allowed: Callable
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The refinement of ``slopes`` for n derivatives at once: ``level(positions, steps)`` the
    function's values at ``OFFSETS`` times the steps for those of the n, (len, 4); ``middle``
    the n values at the point; ``step`` the n first steps. The slope, step and roughness of
    each, and where a rough one's values were not finite, the first such value (0 elsewhere).
    A slope settles only on finite values: nan or inf never agrees with anything."""
    values = level(np.arange(step.size), step)
    estimate = five_point(*values.T, step)
    unsettled = np.arange(step.size)
    for _ in range(REFINEMENTS):
        finer_step = step[unsettled] / 10
        finer_values = level(unsettled, finer_step)
        finer = five_point(*finer_values.T, finer_step)
        bound = allowed(finer)
        agree = np.isfinite(finer) & (np.abs(estimate[unsettled] - finer) <= bound)
        smooth = unbent(values[unsettled], middle[unsettled], step[unsettled]) <= bound
        moving = ~(agree & smooth)
        unsettled = unsettled[moving]
        step[unsettled], values[unsettled] = finer_step[moving], finer_values[moving]
        estimate[unsettled] = finer[moving]
        if not unsettled.size:
            break
    rough = np.zeros(step.size, bool)
    rough[unsettled] = True
    met = np.column_stack([middle[unsettled], values[unsettled]])
    first = np.argmin(np.isfinite(met), axis=1)  # the first value that is not finite, if any
    not_finite = np.zeros(step.size)
    not_finite[unsettled] = np.where(
        np.isfinite(met).all(axis=1), 0.0, met[np.arange(len(met)), first]
    )
    return estimate, step, rough, not_finite


def slopes(
    shifted: Shifted,
    at: np.ndarray,
    allowed: Callable[[np.ndarray], np.ndarray],
    elements: np.ndarray | None = None,
) -> Slopes:
    """The function differentiated numerically along ``elements`` of ``at`` (the point; flat
    indices, every element by default). The five-point slope at step h is taken where the
    stencil holds no kink: the slope at h/10 agrees with it, and the one-sided slopes part
    linearly with the step (``unbent``), each to within ``allowed`` (element-wise, of the
    slope). Elsewhere the step shrinks tenfold and is tried again: a ReLU unit that turns within
    the stencil, however near the point, makes the slopes at h and h/10 agree on a wrong value
    when both stencils hold it, and the one-sided slopes tell. An element where no step is free
    of kinks is ``rough``. Nine evaluations an element where the function is smooth, each level
    of the stencil one call of ``shifted`` for all the elements still unsettled."""
    at = np.asarray(at, np.float64)
    elements = np.arange(at.size) if elements is None else np.asarray(elements, np.int64)
    middle = np.full(elements.size, float(shifted(np.zeros(1, int), np.zeros(1))[0]))

    def level(positions: np.ndarray, step: np.ndarray) -> np.ndarray:
        return stencils(shifted, elements[positions], step)

    found = settled(level, middle, steps(at).ravel()[elements], allowed)
    return Slopes(elements, *found)


def along(g: Callable[[float], np.ndarray], step: float, allowed: Callable) -> Slopes:
    """The derivative at t = 0 of ``g`` (a float64 vector function of t: a gradient along a
    direction, for a Hessian-vector product), each component by the rule of ``slopes``: a kink
    of g along the direction (a ReLU unit turning) is stepped around, or the component is
    ``rough``. Four evaluations of g a level, down to the level where every component settles."""
    middle = np.asarray(g(0.0), np.float64)

    def level(positions: np.ndarray, steps_now: np.ndarray) -> np.ndarray:
        h = float(steps_now[0])  # the unsettled components shrink their step together
        return np.stack([g(k * h) for k in OFFSETS], axis=1)[positions]

    found = settled(level, middle, np.full(middle.size, step), allowed)
    return Slopes(np.arange(middle.size), *found)
