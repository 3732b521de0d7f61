"""The numeric side of a function's check: ``Σ w · fn(*args)`` in float64 (w the fixed random
weights of its output) at the point and at points that each move one element of one
differentiated argument, the held arguments passed as they were given.

Two ways, the same values: an eager call a point, or a stencil level in one call of a traced
``tf.while_loop`` (``flat_loss.FlatLoss``). Tracing costs tens of milliseconds once and then
saves most of an eager call's per-op overhead at every point, so it pays only for a function
evaluated many times. The choice is made when the first level is asked for, by an estimate: the
eager evaluation timed at the point (the fastest of three), the evaluations the check will need
counted (``expected``), and the tracing's cost modelled from the eager one (``traced_cost``). A
function that does not trace (NumPy on its tensors, Python control flow on their values), or
whose traced value at the point is not the eager one, is evaluated eagerly, without a word.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from backprop_suite.gradcheck import numeric

# The cost model (measured on the 2-core AMD EPYC with AVX-512, TensorFlow 2.21, float64):
# tracing and the first call of the traced loop take about TRACE_SECONDS plus TRACE_EAGER_CALLS
# eager evaluations (a function's ops are traced and optimised as they are run), and a point
# inside the loop costs about POINT_SECONDS plus POINT_EAGER_SHARE of an eager evaluation.
TRACE_SECONDS = 0.03
TRACE_EAGER_CALLS = 40
POINT_SECONDS = 6e-6
POINT_EAGER_SHARE = 0.1

_forced: str | None = None  # "eager" or "traced" inside ``forced``; None: the estimate decides


@contextmanager
def forced(path: str) -> Iterator[None]:
    """Inside, every function check takes ``path`` ("eager" or "traced": traced where the
    function traces) instead of the estimate's choice: for tests and measurements."""
    global _forced
    if path not in ("eager", "traced"):
        raise ValueError(f"path must be 'eager' or 'traced', got {path!r}")
    before, _forced = _forced, path
    try:
        yield
    finally:
        _forced = before


def traced_cost(eager_seconds: float, points: int) -> float:
    """The modelled seconds of ``points`` evaluations by the traced loop, its tracing included."""
    trace = TRACE_SECONDS + TRACE_EAGER_CALLS * eager_seconds
    return trace + points * (POINT_SECONDS + POINT_EAGER_SHARE * eager_seconds)


def tracing_pays(eager_seconds: float, points: int) -> bool:
    """Whether ``points`` evaluations are modelled to take less time traced than eagerly."""
    return traced_cost(eager_seconds, points) < points * eager_seconds


class FunctionValues:
    """``fn``'s weighted float64 output, ``objective(k)`` and ``shifted(k)`` of the k-th
    differentiated argument (``wrt[k]``), for ``check.Variable``; ``values`` the float64 copies
    of the differentiated arguments, ``weights`` the output's, ``expected`` the evaluations the
    check is counted to ask for (0: eagerly, whatever the estimate)."""

    def __init__(
        self,
        fn: Callable,
        args: Sequence,
        wrt: Sequence[int],
        values: list[np.ndarray],
        weights: np.ndarray,
        expected: int,
    ) -> None:
        import tensorflow as tf

        self.fn, self.wrt, self.values, self.weights = fn, list(wrt), values, weights
        self.expected = expected
        self.given = list(args)
        for k, position in enumerate(self.wrt):
            self.given[position] = tf.constant(values[k])
        self.traced = None  # the FlatLoss, once the first level has chosen it
        self.path = ""  # "eager" or "traced", once chosen
        self.at_point = 0.0  # the eager value at the point, once chosen

    def evaluate(self, k: int, value: np.ndarray) -> float:
        """Eagerly, with the k-th differentiated argument at ``value``."""
        import tensorflow as tf

        given = list(self.given)
        given[self.wrt[k]] = tf.constant(value)
        try:
            found = self.fn(*given)
        except Exception as error:
            raise ValueError(
                f"{getattr(self.fn, '__name__', 'fn')} does not run on float64 arguments, which "
                f"the numeric reference needs: {type(error).__name__}: {error}"
            ) from None
        return float(np.sum(np.asarray(found, np.float64) * self.weights))

    def objective(self, k: int) -> Callable[[np.ndarray], float]:
        """The weighted output as a function of the k-th differentiated argument alone."""
        return lambda value: self.evaluate(k, value)

    def shifted(self, k: int) -> numeric.Shifted:
        """The weighted output with one element of the k-th differentiated argument moved, many
        at once: eagerly or traced, as ``choose`` decides at the first call."""

        def values(elements: np.ndarray, deltas: np.ndarray) -> np.ndarray:
            if not self.path:
                self.choose()
                if self.traced is None and not np.any(deltas):  # the point: evaluated there
                    return np.full(len(deltas), self.at_point)
            if self.traced is not None:
                try:
                    return self.traced.shifted(k)(elements, deltas)
                except Exception:  # fails at some point: the eager calls say how, or go on
                    self.traced, self.path = None, "eager"
            return numeric.one_by_one(self.objective(k), self.values[k])(elements, deltas)

        return values

    def choose(self) -> None:
        """Eager or traced, for every level from now on: by the estimate (``tracing_pays``) with
        the eager evaluation timed at the point, or as ``forced``; traced only where the
        function traces and its traced value at the point is the eager one."""
        times = []
        for _ in range(3):  # the fastest of three: a first call, or one preempted, costs more
            start = time.perf_counter()
            self.at_point = self.evaluate(0, self.values[0])  # as a moved point costs
            times.append(time.perf_counter() - start)
        self.path = "eager"
        wanted = _forced == "traced" or (
            _forced is None and self.expected > 0 and tracing_pays(min(times), self.expected)
        )
        if wanted:
            self.traced = self.trace(self.at_point)
            self.path = "eager" if self.traced is None else "traced"

    def trace(self, eager: float):
        """The ``FlatLoss`` of the weighted output, traced and called once at the point; None
        where tracing fails or the traced value there is not ``eager``."""
        import tensorflow as tf

        from backprop_suite.gradcheck.flat_loss import FlatLoss

        fn, held, wrt, weights = self.fn, self.given, self.wrt, tf.constant(self.weights)

        def total_of(*values):  # not of self: the traced function holds no cycle back to it
            given = list(held)
            for position, value in zip(wrt, values):
                given[position] = value
            return tf.reduce_sum(tf.cast(fn(*given), tf.float64) * weights)

        try:
            traced = FlatLoss(total_of, self.values, autograph=False)
            at_point = float(traced.shifted(0)(np.zeros(1, np.int64), np.zeros(1))[0])
        except Exception:
            return None
        if not abs(at_point - eager) <= 1e-9 * max(1.0, abs(eager)):  # rounding apart, at most
            return None
        return traced
