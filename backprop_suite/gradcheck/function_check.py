"""A TensorFlow function's gradients with respect to its arguments (those named by ``wrt``, every
one by default) against float64 finite differences (``check``). The output is reduced to a scalar
with fixed random weights (seeded), so every output element takes part; the numeric side calls
the function on float64 copies of the differentiated arguments, the others as they were given
(``function_values``: eagerly, or traced where that is estimated to pay), the analytic side stays
in the dtype given and is held to that dtype's bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from backprop_suite.gradcheck.check import (
    GradientMismatch,
    GradientReport,
    Variable,
    check,
    tolerance_of,
)
from backprop_suite.gradcheck.dense import dense
from backprop_suite.gradcheck.function_values import FunctionValues
from backprop_suite.gradcheck.hessian import check_hessian_vector, weights_of
from backprop_suite.gradcheck.known_faults import second_order_note
from backprop_suite.gradcheck.numeric import OFFSETS
from backprop_suite.quiet import noise_dropped

EVALUATIONS_AN_ELEMENT = 2 * len(OFFSETS)  # two stencil levels, where the function is smooth


def positions_of(wrt: int | Sequence[int] | None, count: int) -> list[int]:
    """The positions ``wrt`` names among ``count`` arguments (every one for None); a
    ``ValueError`` for one out of range, repeated, or not an integer."""
    if wrt is None:
        return list(range(count))
    named = [wrt] if isinstance(wrt, int | np.integer) else list(wrt)
    if not named:
        raise ValueError("wrt names no argument: give the positions of those to differentiate")
    for position in named:
        if isinstance(position, bool) or not isinstance(position, int | np.integer):
            raise ValueError(f"wrt holds {position!r}: it takes argument positions (integers)")
        if not 0 <= position < count:
            raise ValueError(
                f"wrt holds {position}: there are {count} arguments (0 to {count - 1})"
            )
    if len(set(named)) != len(named):
        raise ValueError(f"wrt names an argument twice: {named}")
    return [int(p) for p in named]


def differentiated(args: tuple, positions: list[int], wrt_given: bool) -> list:
    """The arguments at ``positions`` as tensors; a ``ValueError`` for one that is not floats
    (with a hint at ``wrt`` where it was not given)."""
    import tensorflow as tf

    hint = "" if wrt_given else "; hold it fixed with wrt= (the positions to differentiate)"
    tensors = []
    for i in positions:
        try:
            tensor = tf.convert_to_tensor(args[i])
        except (TypeError, ValueError) as error:
            raise ValueError(f"argument {i} is not a tensor of floats ({error}){hint}") from None
        if not tensor.dtype.is_floating:
            raise ValueError(
                f"argument {i} is {tensor.dtype.name}: only floats have gradients{hint}"
            )
        tensors.append(tensor)
    return tensors


@noise_dropped
def check_function_gradients(
    fn: Callable,
    *args,
    wrt: int | Sequence[int] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    order: int = 1,
) -> GradientReport:
    """``fn(*args)``'s gradients with respect to the arguments at the positions ``wrt`` (every
    argument by default, each then a tensor or array of floats; the others are passed to ``fn``
    unchanged, whatever they are: indices, integers, Python values): ``tf.GradientTape`` in the
    arguments' dtype (the narrowest of them) against float64 differences of ``fn`` on float64
    copies; with ``order=2`` also a Hessian-vector product (``check_hessian_vector``). Raises
    ``GradientMismatch`` (an ``AssertionError``) naming the argument and index."""
    import tensorflow as tf

    if not args:
        raise ValueError("check_function_gradients needs at least one argument to differentiate")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    positions = positions_of(wrt, len(args))
    tensors = differentiated(args, positions, wrt is not None)
    dtype = min((np.dtype(t.dtype.name) for t in tensors), key=lambda d: d.itemsize).name

    def with_fixed(*varied):
        given = list(args)
        for position, value in zip(positions, varied):
            given[position] = value
        return fn(*given)

    start = time.perf_counter()
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        output = tf.convert_to_tensor(with_fixed(*tensors))
        total = tf.reduce_sum(output * tf.constant(weights_of(output.shape, seed), output.dtype))
    grads = tape.gradient(total, tensors, unconnected_gradients="zero")
    values = [np.asarray(t.numpy(), np.float64) for t in tensors]
    elements = sum(v.size for v in values)
    reference = FunctionValues(
        fn,
        args,
        positions,
        values,
        weights_of(output.shape, seed),
        0 if fast else EVALUATIONS_AN_ELEMENT * elements,
    )
    variables = [
        Variable(
            f"argument {i}",
            values[k],
            np.asarray(dense(g).numpy()),
            reference.objective(k),
            reference.shifted(k),
        )
        for k, (i, g) in enumerate(zip(positions, grads))
    ]
    report = check(variables, dtype, rtol, atol, fast, seed)
    if order == 2:
        found = check_hessian_vector(
            with_fixed,
            tensors,
            values,
            seed,
            tolerance_of(dtype, rtol, atol),
            names=[f"argument {i}" for i in positions],
        )
        try:
            report.variables += check(found, dtype, rtol, atol, seed=seed).variables
        except GradientMismatch as failed:
            signature = [tf.TensorSpec(t.shape, t.dtype) for t in tensors]
            traced = tf.function(with_fixed, input_signature=signature)
            raise GradientMismatch(f"{failed}{second_order_note(traced)}") from None
    report.seconds = time.perf_counter() - start
    return report
