"""A float64 function of a list of arrays (a model's loss of its trainable weights, a function's
weighted output of its arguments), seen one array at a time, with many points that each move one
element (a stencil level of ``numeric.slopes``) evaluated in one traced call: a
``tf.while_loop`` over them, instead of an eager call a point. (Not ``tf.map_fn``: traced in a
``tf.function``, it sets the global variable scope's caching device and, when the function it
maps raises, never restores it, and every ``tf.distribute`` strategy in the process fails from
then on.)

Each ``tf.function`` here wraps a ``functools.partial`` of its Python function: TensorFlow counts
the traces of every ``tf.function`` made of one code object together and, at the fifth in ten
calls, logs a retracing warning; a partial has no code object, so each ``FlatLoss`` is counted
on its own and traced once (a check in a loop makes a new one each time).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

POINTS_A_CALL = 4096  # a bound on one call's time, so that Ctrl-C is seen between calls


class FlatLoss:
    """``total_of`` (of ``stateless_loss``) at ``weights`` (float64 arrays), seen one weight
    variable at a time: ``objective(i)`` a function of variable i's value, ``shifted(i)`` the
    values with one element of it moved, for many elements at once. Traced when first called;
    ``autograph=False`` traces ``total_of`` as it is written (Python control flow on a tensor
    then fails to trace instead of being converted)."""

    def __init__(
        self, total_of: Callable, weights: list[np.ndarray], autograph: bool = True
    ) -> None:
        import tensorflow as tf

        self.shapes = shapes = [np.shape(w) for w in weights]
        self.sizes = sizes = [int(np.size(w)) for w in weights]
        self.offsets = np.cumsum([0, *self.sizes])
        self.flat = np.concatenate([np.ravel(w) for w in weights]).astype(np.float64)
        start = tf.constant(self.flat)

        def at(theta):  # of locals, not of self: no cycle back to it, freed as a check ends
            parts = tf.split(theta, sizes) if len(sizes) > 1 else [theta]
            total = total_of(*(tf.reshape(p, s) for p, s in zip(parts, shapes)))
            if total.dtype != tf.float64:  # seen as the function is traced
                raise ValueError(
                    f"the loss is {total.dtype.name} on the float64 copy of the model: the "
                    "numeric reference needs it in float64 (a Keras loss is given dtype "
                    "float64; a function of yours must not cast)"
                )
            return total

        def many(positions, deltas):
            count = tf.size(positions)

            def one_more(k, found):
                where = tf.reshape(tf.gather(positions, k), [1, 1])
                moved = tf.tensor_scatter_nd_add(
                    start, where, tf.reshape(tf.gather(deltas, k), [1])
                )
                return k + 1, found.write(k, at(moved))

            _, found = tf.while_loop(
                lambda k, _: k < count,
                one_more,
                (tf.constant(0), tf.TensorArray(tf.float64, size=count)),
            )
            return found.stack()

        self.at = tf.function(
            functools.partial(at),
            input_signature=[tf.TensorSpec([self.flat.size], tf.float64)],
            autograph=autograph,
        )
        self.many = tf.function(
            functools.partial(many),
            input_signature=[tf.TensorSpec([None], tf.int64), tf.TensorSpec([None], tf.float64)],
            autograph=autograph,
        )

    def objective(self, i: int) -> Callable[[np.ndarray], float]:
        def f(value: np.ndarray) -> float:
            theta = self.flat.copy()
            theta[self.offsets[i] : self.offsets[i + 1]] = np.ravel(value)
            return float(self.at(theta))

        return f

    def shifted(self, i: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def values(elements: np.ndarray, deltas: np.ndarray) -> np.ndarray:
            positions = np.asarray(elements, np.int64) + self.offsets[i]
            deltas = np.asarray(deltas, np.float64)
            found = [
                self.many(positions[s : s + POINTS_A_CALL], deltas[s : s + POINTS_A_CALL]).numpy()
                for s in range(0, len(positions), POINTS_A_CALL)
            ]
            return np.concatenate(found)

        return values
