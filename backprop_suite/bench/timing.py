"""The one timing rule of every benchmark: a cold first call, then the median of warm ones
(``statistics.median``: the mean of the middle two for an even count), in seconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

Progress = Callable[[str], None]


def silent(message: str) -> None:
    pass


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def first_and_median(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The cold first call, then the median of ``repeats`` warm calls, in seconds."""
    first = timed(run)
    return first, statistics.median(timed(run) for _ in range(repeats))
