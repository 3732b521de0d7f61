"""A TensorFlow function's gradients with respect to its arguments against float64 finite
differences (``check``). The output is reduced to a scalar with fixed random weights (seeded), so
every output element takes part; the numeric side calls the function on float64 copies of its
arguments, the analytic side stays in the dtype given and is held to that dtype's bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from backprop_suite.gradcheck.check import GradientReport, Variable, check, tolerance_of
from backprop_suite.gradcheck.hessian import check_hessian_vector, weights_of
from backprop_suite.quiet import noise_dropped


@noise_dropped
def check_function_gradients(
    fn: Callable,
    *args,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    order: int = 1,
) -> GradientReport:
    """``fn(*args)``'s gradients with respect to each argument (a tensor or array of floats):
    ``tf.GradientTape`` in the arguments' dtype against float64 differences of ``fn`` on float64
    copies; with ``order=2`` also a Hessian-vector product (``check_hessian_vector``). Raises
    ``GradientMismatch`` (an ``AssertionError``) naming the argument and index."""
    import tensorflow as tf

    if not args:
        raise ValueError("check_function_gradients needs at least one argument to differentiate")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    tensors = [tf.convert_to_tensor(a) for a in args]
    for i, tensor in enumerate(tensors):
        if not tensor.dtype.is_floating:
            raise ValueError(f"argument {i} is {tensor.dtype.name}: only floats have gradients")
    dtype = tensors[0].dtype.name
    start = time.perf_counter()
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        output = tf.convert_to_tensor(fn(*tensors))
        weights = tf.constant(weights_of(output.shape, seed), output.dtype)
        total = tf.reduce_sum(output * weights)
    grads = tape.gradient(total, tensors, unconnected_gradients="zero")
    values = [np.asarray(t.numpy(), np.float64) for t in tensors]
    weights64 = weights_of(output.shape, seed)

    constants = [tf.constant(v) for v in values]

    def objective(i: int) -> Callable[[np.ndarray], float]:
        def f(value: np.ndarray) -> float:
            given = list(constants)
            given[i] = tf.constant(value)
            try:
                found = tf.convert_to_tensor(fn(*given))
            except Exception as error:
                raise ValueError(
                    f"{getattr(fn, '__name__', 'fn')} does not run on float64 arguments, which "
                    f"the numeric reference needs: {type(error).__name__}: {error}"
                ) from None
            return float(np.sum(np.asarray(found.numpy(), np.float64) * weights64))

        return f

    variables = [
        Variable(f"argument {i}", values[i], np.asarray(g.numpy()), objective(i))
        for i, g in enumerate(grads)
    ]
    report = check(variables, dtype, rtol, atol, fast, seed)
    if order == 2:
        found = check_hessian_vector(fn, tensors, values, seed, tolerance_of(dtype, rtol, atol))
        second = check(found, dtype, rtol, atol, seed=seed)
        report.variables += second.variables
    report.seconds = time.perf_counter() - start
    return report
