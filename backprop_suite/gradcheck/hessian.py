"""Second order: a Hessian-vector product by nested tapes against five-point differences of float64
gradients along a random direction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backprop_suite.gradcheck import numeric
from backprop_suite.gradcheck.check import Variable, settle_bound
from backprop_suite.gradcheck.dense import dense
from backprop_suite.verify.tolerances import Tolerance


def weights_of(shape, seed: int) -> np.ndarray:
    """The fixed random weights that reduce an output of ``shape`` to a scalar; a scalar output
    is taken as it is (its weight 1), so that its gradients are the user's own."""
    if tuple(shape) == ():
        return np.ones(())
    return np.random.default_rng(seed + 7919).uniform(0.5, 1.5, shape)


def check_hessian_vector(
    fn: Callable,
    tensors: list,
    values: list,
    seed: int,
    tolerance: Tolerance,
    fn64: Callable | None = None,
    names: list[str] | None = None,
) -> list[Variable]:
    """Second order: for a random unit direction v over all the arguments, the Hessian-vector
    product H v by differentiating the gradient (nested tapes, in the arguments' dtype) against
    five-point differences along v of float64 gradients (of ``fn64``, ``fn`` by default), the
    step shrunk where the gradient has a kink along v (``numeric.along``: a ReLU unit turning,
    which the nested tapes do not see); a component where none is free of it is a kink."""
    fn64 = fn if fn64 is None else fn64
    names = names or [f"argument {i}" for i in range(len(tensors))]
    import tensorflow as tf

    rng = np.random.default_rng(seed + 1)
    directions = [rng.standard_normal(np.shape(v)) for v in values]
    norm = np.sqrt(sum(float(np.sum(d * d)) for d in directions))
    directions = [d / max(norm, 1e-300) for d in directions]

    def gradients(given: list, weights, of: Callable = fn) -> list:
        with tf.GradientTape() as tape:
            tape.watch(given)
            total = tf.reduce_sum(tf.convert_to_tensor(of(*given)) * weights)
        return [dense(g) for g in tape.gradient(total, given, unconnected_gradients="zero")]

    with tf.GradientTape() as outer:
        outer.watch(tensors)
        output = tf.convert_to_tensor(fn(*tensors))
        weights = tf.constant(weights_of(output.shape, seed), output.dtype)
        first = gradients(tensors, weights)
        projected = sum(
            tf.reduce_sum(g * tf.constant(d, g.dtype)) for g, d in zip(first, directions)
        )
    analytic = outer.gradient(projected, tensors, unconnected_gradients="zero")
    weights64 = tf.constant(weights_of(output.shape, seed), tf.float64)
    sizes = [int(np.size(v)) for v in values]

    def gradient_along(t: float) -> np.ndarray:
        given = [tf.constant(v + t * d) for v, d in zip(values, directions)]
        found = gradients(given, weights64, fn64)
        return np.concatenate([np.asarray(g.numpy(), np.float64).ravel() for g in found])

    step = numeric.direction_step(values)
    slopes = numeric.along(gradient_along, step, settle_bound(tolerance))
    parts = np.split(np.arange(sum(sizes)), np.cumsum(sizes)[:-1])

    def part_of(part: np.ndarray) -> numeric.Slopes:
        elements = np.arange(part.size)
        return numeric.Slopes(
            elements,
            slopes.central[part],
            slopes.step[part],
            slopes.rough[part],
            slopes.not_finite[part],
        )

    return [
        Variable(
            f"{names[i]} (Hessian-vector)",
            values[i],
            np.asarray(dense(hv).numpy()),
            None,
            None,
            part_of(p),
        )
        for i, (hv, p) in enumerate(zip(analytic, parts))
    ]
