"""Analytic gradients against float64 finite differences, variable by variable, and the verdict.

Every element is held to ``atol · scale + rtol · |numeric|``, ``scale`` the variable's largest
numeric gradient (at least 1): an element near 0 beside large ones carries their rounding. The
bounds are ``GRADCHECK`` of the analytic side's dtype (``backprop_suite.verify.tolerances``).
Where the one-sided slopes jump (``numeric.kinks``) the element is reported, not judged.
``fast``: one random direction per variable, vᵀg against the numeric slope along v, and the full
check of each variable that fails it.
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
    variable, the index, both values, the tolerance and the check that failed."""


@dataclass
class VariableReport:
    """One variable: its worst element against the tolerance (above 1 fails), where, the
    median step, the kinks found (indices), and how it was checked."""

    name: str
    worst: float
    index: tuple[int, ...]
    analytic: float
    numeric: float
    step: float
    kinks: list[tuple[int, ...]] = field(default_factory=list)
    checked: str = "full"


@dataclass
class GradientReport:
    """Every variable's report, the bound, the dtype of the analytic side and the seconds."""

    variables: list[VariableReport]
    tolerance: Tolerance
    dtype: str
    seconds: float
    backends: dict[str, str] = field(default_factory=dict)  # backend -> how far from TF's

    def text(self) -> str:
        lines = [
            f"{v.name}: worst {v.worst:.3g} of its tolerance at {list(v.index)} ({v.checked}, "
            f"step {v.step:.2g})" + (f", kinks at {v.kinks[:5]}" if v.kinks else "")
            for v in self.variables
        ]
        bound = f"atol {self.tolerance.atol:g} x scale + rtol {self.tolerance.rtol:g} x |numeric|"
        lines.append(f"{self.dtype} gradients within {bound}, {self.seconds:.2f} s")
        lines += [f"on {backend}: {found}" for backend, found in self.backends.items()]
        return "\n".join(lines)


@dataclass
class Variable:
    """What the checker needs of one variable: its name, its value in float64, the analytic
    gradient, and the float64 objective as a function of this variable alone (None where
    ``value`` is already the numeric derivative: a Hessian-vector product's)."""

    name: str
    value: np.ndarray
    analytic: np.ndarray
    objective: Callable[[np.ndarray], float] | None


def judge(analytic: np.ndarray, found: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Each element's distance from the numeric gradient in units of its tolerance."""
    found = np.asarray(found, np.float64)
    scale = max(1.0, float(np.max(np.abs(found), initial=0.0)))
    bound = tolerance.atol * scale + tolerance.rtol * np.abs(found)
    return np.abs(np.asarray(analytic, np.float64) - found) / bound


def full(variable: Variable, tolerance: Tolerance, checked: str) -> VariableReport:
    """Every element of the variable against its numeric gradient; kinks reported, not judged."""
    if variable.value.size == 0:
        return VariableReport(variable.name, 0.0, (), 0.0, 0.0, 0.0, [], checked)

    def close(a: float, b: float) -> bool:  # a tenth of the bound: the slope is settled
        return abs(a - b) <= 0.1 * (tolerance.atol * max(1.0, abs(b)) + tolerance.rtol * abs(b))

    slopes = numeric.slopes(variable.objective, variable.value, close)
    ratio = np.nan_to_num(judge(variable.analytic, slopes.central, tolerance), nan=np.inf)
    scale = tolerance.rtol * max(1.0, float(np.max(np.abs(slopes.central))))
    kinked = numeric.kinks(slopes, scale)
    ratio = np.where(kinked, 0.0, ratio)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    return VariableReport(
        variable.name,
        float(ratio[index]),
        index,
        float(np.asarray(variable.analytic, np.float64)[index]),
        float(slopes.central[index]),
        float(np.median(slopes.step)),
        [tuple(int(i) for i in k) for k in np.argwhere(kinked)],
        checked,
    )


def projected(variable: Variable, tolerance: Tolerance, rng: np.random.Generator) -> bool:
    """Whether vᵀg agrees with the numeric slope along a random unit direction v, held to the
    tolerance of the sum: atol · scale + rtol · Σ|vᵢ gᵢ|."""
    direction = rng.standard_normal(variable.value.shape)
    direction /= max(float(np.linalg.norm(direction)), 1e-300)
    analytic = np.asarray(variable.analytic, np.float64)
    along = numeric.directional(variable.objective, variable.value, direction)
    scale = max(1.0, float(np.max(np.abs(analytic), initial=0.0)))
    bound = tolerance.atol * scale + tolerance.rtol * float(np.sum(np.abs(direction * analytic)))
    return bool(abs(float(np.sum(direction * analytic)) - along) <= bound)


def given(variable: Variable, tolerance: Tolerance) -> VariableReport:
    """A variable whose numeric derivative is given (``value``), element by element."""
    ratio = np.nan_to_num(judge(variable.analytic, variable.value, tolerance), nan=np.inf)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    analytic = float(np.asarray(variable.analytic, np.float64)[index])
    numeric_value = float(variable.value[index])
    return VariableReport(variable.name, float(ratio[index]), index, analytic, numeric_value, 0.0)


def check(
    variables: list[Variable],
    dtype: str,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    numeric_given: bool = False,
) -> GradientReport:
    """Every variable checked; the first one outside its tolerance raises ``GradientMismatch``.
    ``numeric_given``: each variable's ``value`` is its numeric derivative already."""
    default = GRADCHECK.get(dtype, GRADCHECK["float32"])
    tolerance = Tolerance(
        atol=default.atol if atol is None else atol, rtol=default.rtol if rtol is None else rtol
    )
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    reports = []
    for variable in variables:
        if not np.all(np.isfinite(variable.analytic)):
            raise GradientMismatch(f"{variable.name}: the analytic gradient is not finite")
        if numeric_given:
            report = given(variable, tolerance)
        elif fast and projected(variable, tolerance, rng):
            reports.append(VariableReport(variable.name, 0.0, (), 0.0, 0.0, 0.0, [], "projection"))
            continue
        else:
            report = full(variable, tolerance, "full after a projection failed" if fast else "full")
        if report.worst > 1:
            how = "of float64 gradients" if numeric_given else f"step {report.step:.2g}"
            raise GradientMismatch(
                f"{variable.name}{list(report.index)}: analytic {report.analytic!r}, numeric "
                f"{report.numeric!r} (float64 five-point differences, {how}): "
                f"{report.worst:.3g} times the tolerance atol {tolerance.atol:g} x scale + rtol "
                f"{tolerance.rtol:g} x |numeric| ({dtype}; {report.checked} check)"
            )
        reports.append(report)
    return GradientReport(reports, tolerance, dtype, time.perf_counter() - start)
