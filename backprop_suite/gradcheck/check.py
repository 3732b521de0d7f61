"""Analytic gradients against float64 finite differences, variable by variable, and the verdict.

Every element is held to ``atol · scale + rtol · |numeric|``, ``scale`` the variable's largest
numeric gradient (at least 1): an element near 0 beside large ones carries their rounding. The
bounds are ``GRADCHECK`` of the analytic side's dtype (``backprop_suite.verify.tolerances``).
An element with a kink at its point, where no stencil is free of it (``numeric.slopes``), is
reported, not judged.
``fast``: random directions per variable, vᵀg against the numeric slope along v, and the full
check of each variable that fails them (of its worse part, found by halves, for a large one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from backprop_suite.gradcheck import numeric
from backprop_suite.verify.tolerances import GRADCHECK, Tolerance


class GradientMismatch(AssertionError):
    """An analytic gradient outside its tolerance of the numeric one; the message names the
    variable, the index, both values, the tolerance and the check that failed. ``report``: the
    failing variable's ``VariableReport``, where one element is to blame."""

    report: VariableReport | None = None


@dataclass
class VariableReport:
    """One variable: its worst element against the tolerance (above 1 fails), where, the
    median step and the step at the worst element, the kinks found (indices), and how it was
    checked."""

    name: str
    worst: float
    index: tuple[int, ...]
    analytic: float
    numeric: float
    step: float
    kinks: list[tuple[int, ...]] = field(default_factory=list)
    checked: str = "full check"
    step_at_worst: float = 0.0


@dataclass
class GradientReport:
    """Every variable's report, the bound, the dtype of the analytic side and the seconds (of
    the whole call, for the two entry points: the float64 copy, both orders, the backends)."""

    variables: list[VariableReport]
    tolerance: Tolerance
    dtype: str
    seconds: float
    backends: dict[str, str] = field(default_factory=dict)  # backend -> how far from TF's

    def text(self) -> str:
        lines = [
            f"{v.name}: worst {v.worst:.3g} of its tolerance at {list(v.index)} ({v.checked}, "
            f"step {v.step:.2g})" + (f", kinks at {v.kinks[:5]}" if v.kinks else "")
            if v.checked != "projection"
            else f"{v.name}: worst projection {v.worst:.3g} of its tolerance (projections)"
            for v in self.variables
        ]
        bound = f"atol {self.tolerance.atol:g} x scale + rtol {self.tolerance.rtol:g} x |numeric|"
        lines.append(f"{self.dtype} gradients within {bound}, {self.seconds:.2f} s")
        lines += [f"on {backend}: {found}" for backend, found in self.backends.items()]
        return "\n".join(lines)


@dataclass
class Variable:
    """What the checker needs of one variable: its name, its value in float64, the analytic
    gradient, and the float64 objective as a function of this variable alone; ``shifted``, the
    objective with one element moved, many at once (``numeric.Shifted``), where there is a
    faster way than calling ``objective`` a point at a time; ``found``, where the numeric
    derivative is found already (a Hessian-vector product's, every element, flat), instead of
    an objective."""

    name: str
    value: np.ndarray
    analytic: np.ndarray
    objective: Callable[[np.ndarray], float] | None
    shifted: numeric.Shifted | None = None
    found: numeric.Slopes | None = None


def tolerance_of(dtype: str, rtol: float | None, atol: float | None) -> Tolerance:
    """``GRADCHECK``'s bound for ``dtype`` (float32's for another), ``rtol``/``atol`` given
    instead where they are."""
    default = GRADCHECK.get(dtype, GRADCHECK["float32"])
    return Tolerance(
        atol=default.atol if atol is None else atol, rtol=default.rtol if rtol is None else rtol
    )


def settle_bound(tolerance: Tolerance) -> Callable[[np.ndarray], np.ndarray]:
    """How near two numeric slopes must be for the step to be settled: a tenth of the bound."""

    def allowed(slope: np.ndarray) -> np.ndarray:
        bound = tolerance.atol * np.maximum(1.0, np.abs(slope)) + tolerance.rtol * np.abs(slope)
        return 0.1 * bound

    return allowed


def judge(analytic: np.ndarray, found: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Each element's distance from the numeric gradient in units of its tolerance."""
    found = np.asarray(found, np.float64)
    scale = max(1.0, float(np.max(np.abs(found), initial=0.0)))
    bound = tolerance.atol * scale + tolerance.rtol * np.abs(found)
    return np.abs(np.asarray(analytic, np.float64) - found) / bound


def full(
    variable: Variable, tolerance: Tolerance, checked: str, elements: np.ndarray | None = None
) -> VariableReport:
    """Every element of the variable (or ``elements``, flat indices) against its numeric
    gradient; kinks reported, not judged."""
    if variable.value.size == 0:
        return VariableReport(variable.name, 0.0, (), 0.0, 0.0, 0.0, [], checked)
    shifted = variable.shifted or numeric.one_by_one(variable.objective, variable.value)
    slopes = numeric.slopes(shifted, variable.value, settle_bound(tolerance), elements)
    return judged(variable, slopes, tolerance, checked)


def judged(
    variable: Variable, slopes: numeric.Slopes, tolerance: Tolerance, checked: str
) -> VariableReport:
    """The analytic gradient's elements that ``slopes`` holds against it; the rough ones (kinks)
    reported, not judged, unless what kept them rough is a function value that is not finite:
    that fails (``function_not_finite``), since nan or inf can agree with nothing."""
    analytic = np.asarray(variable.analytic, np.float64).ravel()[slopes.elements]
    unfinished = slopes.where_not_finite()
    if unfinished.size:
        raise GradientMismatch(function_not_finite(variable, slopes, unfinished))
    ratio = np.nan_to_num(judge(analytic, slopes.central, tolerance), nan=np.inf)
    ratio = np.where(slopes.rough, 0.0, ratio)
    worst = int(np.argmax(ratio))

    def index_of(element: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(int(element), variable.value.shape))

    return VariableReport(
        variable.name,
        float(ratio[worst]),
        index_of(slopes.elements[worst]),
        float(analytic[worst]),
        float(slopes.central[worst]),
        float(np.median(slopes.step)),
        [index_of(e) for e in slopes.elements[slopes.rough]],
        checked,
        float(slopes.step[worst]),
    )


def function_not_finite(variable: Variable, slopes: numeric.Slopes, where: np.ndarray) -> str:
    """The message for elements whose numeric derivative met nan or inf at every step: the
    function is not finite at the point or near it, and a difference there is no gradient."""
    first = int(where[0])
    index = [int(i) for i in np.unravel_index(int(slopes.elements[first]), variable.value.shape)]
    return (
        f"{variable.name}{index}: the function is not finite ({slopes.not_finite[first]}) at "
        f"the point or within {2 * slopes.step[first]:.2g} of it along this element, at every "
        f"step down to the finest: its numeric gradient is not defined there ({where.size} of "
        f"{slopes.elements.size} elements checked)"
    )


PROJECTIONS = 2  # random directions a projection check takes
FULL_AT = 256  # a variable larger than this is narrowed by halves before its full check


def projected(
    variable: Variable,
    tolerance: Tolerance,
    rng: np.random.Generator,
    elements: np.ndarray | None = None,
) -> float:
    """The worst of ``PROJECTIONS`` random unit directions v (over ``elements``, flat indices;
    every element by default): |vᵀg − the numeric slope along v| in units of its tolerance,
    atol · max(1, |slope|) + rtol · √Σ(vᵢgᵢ)². Each element's rounding enters vᵀg with its own
    sign, so the errors that an element-wise bound allows add up as a root sum of squares; a
    bound of Σ|vᵢgᵢ| would grow as √n times faster than vᵀg itself, and let a doubled gradient
    pass the projection of a large variable. The slope along v steps around kinks as an
    element's does (``numeric.along``); along a direction with a kink at the point the
    projection says nothing, and is infinitely far (the full check follows)."""
    value = np.asarray(variable.value, np.float64)
    analytic = np.asarray(variable.analytic, np.float64)
    elements = np.arange(value.size) if elements is None else elements
    first = numeric.direction_step([value])
    worst = 0.0
    for _ in range(PROJECTIONS):
        direction = np.zeros(value.size)
        direction[elements] = rng.standard_normal(elements.size)
        direction = direction.reshape(value.shape) / max(float(np.linalg.norm(direction)), 1e-300)

        def moved(t: float, direction: np.ndarray = direction) -> np.ndarray:
            return np.array([variable.objective(value + t * direction)])

        slope = numeric.along(moved, first, settle_bound(tolerance))
        if slope.rough[0]:
            return float("inf")
        along = float(slope.central[0])
        terms = direction * analytic
        bound = tolerance.atol * max(1.0, abs(along)) + tolerance.rtol * float(
            np.sqrt(np.sum(terms * terms))
        )
        worst = max(worst, abs(float(np.sum(terms)) - along) / bound)
    return worst


def narrowed(variable: Variable, tolerance: Tolerance, rng: np.random.Generator) -> VariableReport:
    """A variable that failed a projection: checked in full if it has at most ``FULL_AT``
    elements; a larger one is halved, again and again, into the half whose projections are
    worse, and that part checked in full (a million-element variable in full is hours)."""
    elements = np.arange(variable.value.size)
    while elements.size > FULL_AT:
        halves = np.array_split(elements, 2)
        elements = max(halves, key=lambda half: projected(variable, tolerance, rng, half))
    if elements.size == variable.value.size:
        return full(variable, tolerance, "full check after a projection failed")
    how = f"full check of {elements.size} of {variable.value.size} elements, narrowed by halves"
    return full(variable, tolerance, f"{how} after a projection failed", elements)


def not_finite(name: str, analytic: np.ndarray) -> str:
    """The message for an analytic gradient that is not finite: where first, its value, and at
    how many of its elements."""
    bad = np.argwhere(~np.isfinite(analytic))
    first = [int(i) for i in bad[0]]
    return (
        f"{name}{first}: the analytic gradient is not finite ({analytic[tuple(first)]}) at "
        f"{len(bad)} of {analytic.size} elements, first at {first}"
    )


def check(
    variables: list[Variable],
    dtype: str,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    label: str | None = None,
) -> GradientReport:
    """Every variable checked; the first one outside its tolerance raises ``GradientMismatch``.
    ``dtype`` chooses the bound; ``label`` (``dtype`` by default) names the precision in the
    message and the report (a mixed policy's compute and variable dtypes)."""
    tolerance = tolerance_of(dtype, rtol, atol)
    label = label or dtype
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    reports = []
    for variable in variables:
        if not np.all(np.isfinite(variable.analytic)):
            raise GradientMismatch(not_finite(variable.name, np.asarray(variable.analytic)))
        if variable.found is not None:
            report = judged(
                variable, variable.found, tolerance, "differences of float64 gradients along v"
            )
        elif not fast:
            report = full(variable, tolerance, "full check")
        elif (ratio := projected(variable, tolerance, rng)) <= 1:
            reports.append(
                VariableReport(variable.name, ratio, (), 0.0, 0.0, 0.0, [], "projection")
            )
            continue
        else:
            report = narrowed(variable, tolerance, rng)
        if report.worst > 1:
            failed = GradientMismatch(
                f"{variable.name}{list(report.index)}: analytic {report.analytic!r}, numeric "
                f"{report.numeric!r} (float64 five-point differences, step "
                f"{report.step_at_worst:.2g}): "
                f"{report.worst:.3g} times the tolerance atol {tolerance.atol:g} x scale + rtol "
                f"{tolerance.rtol:g} x |numeric| ({label}; {report.checked})"
            )
            failed.report = report
            raise failed
        reports.append(report)
    return GradientReport(reports, tolerance, label, time.perf_counter() - start)
