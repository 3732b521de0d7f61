"""How long a full check will take, measured before it starts, and what is done about it: a full
check estimated over a minute says so; over an hour it is refused, pointing to ``fast=True``;
``fast="auto"`` checks in fast mode wherever the full check is estimated over a minute. Long
checks show a progress bar on a terminal (tqdm; none when standard error is not one)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

EVALUATIONS_AN_ELEMENT = 9  # the five-point stencil at h and at h/10, where the loss is smooth
SAID_AFTER = 60.0  # seconds of full check: the estimate is written to standard error
REFUSED_AFTER = 3600.0
PROGRESS_AFTER = 10.0
PROBE_POINTS = 32


def seconds_an_evaluation(many: Callable, size: int) -> float:
    """One evaluation's seconds: ``many`` (``FlatLoss.many``) on ``PROBE_POINTS`` points, timed
    after a first call that traces it, median of three."""
    positions = np.arange(min(PROBE_POINTS, size), dtype=np.int64) % size
    deltas = np.zeros(positions.size)
    many(positions, deltas)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        many(positions, deltas)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / positions.size


def described(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.0f} days"


def chosen_mode(fast: bool | str, many: Callable, elements: int) -> tuple[bool, float]:
    """Whether to check in fast mode, and the full check's estimated seconds (0 where not
    measured: fast mode asked for)."""
    if fast is True:
        return True, 0.0
    each = seconds_an_evaluation(many, elements)
    estimate = each * EVALUATIONS_AN_ELEMENT * elements
    if fast == "auto":
        return estimate > SAID_AFTER, estimate
    if estimate > REFUSED_AFTER:
        raise ValueError(
            f"a full check of {elements} weights would take about {described(estimate)} "
            f"({each * 1e3:.3g} ms an evaluation, {EVALUATIONS_AN_ELEMENT} an element): check "
            "with fast=True (random projections, then the full check of what fails them), or "
            "fast='auto'"
        )
    if estimate > SAID_AFTER:
        print(
            f"gradcheck: a full check of {elements} weights, about {described(estimate)}",
            file=sys.stderr,
            flush=True,
        )
    return False, estimate


def progress(estimate: float, elements: int):
    """A progress bar over the evaluations of a full check estimated over ``PROGRESS_AFTER``
    seconds, on a terminal only; None otherwise."""
    if estimate < PROGRESS_AFTER or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(
        total=EVALUATIONS_AN_ELEMENT * elements, unit="evaluation", desc="gradcheck", leave=False
    )


def counted(shifted: Callable, bar) -> Callable:
    """``shifted`` (``numeric.Shifted``) that moves ``bar`` on by the points it evaluates."""
    if bar is None:
        return shifted

    def values(elements: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        found = shifted(elements, deltas)
        bar.update(len(elements))
        return found

    return values
