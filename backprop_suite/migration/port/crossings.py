"""The port's side of the layer localisation: what crosses each block boundary of a Keras port
on one batch, and the loss's gradient with respect to it; or, with TF1's own tensors given to
each block instead (``--isolate``), what each block makes of TF1's input and its input-gradient
given TF1's output-gradient.

Boundary ``i`` is block ``i``'s input for ``i < n`` and the model's output for ``i = n``. Both run
in a ``tf.function``, as the check's stages run the port (eager float32 rounds otherwise)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from backprop_suite.migration.port.blocks import Block, Crossing
from backprop_suite.migration.port.port import tensors


def boundary_shapes(port, blocks: list[Block], batch: dict) -> tuple[list[int], dict[int, tuple]]:
    """The order the model calls its blocks in and the shape of each boundary, from one eager
    forward pass."""

    def run():
        x, _ = port._xy(tensors(batch))
        crossing = Crossing(blocks)
        with crossing.watching():
            out = port.model(x, training=True)
        return crossing, out

    crossing, out = port.without_updates(lambda _: run())(batch)
    shapes = {i: tuple(value.shape) for i, value in crossing.given.items()}
    shapes[len(blocks)] = tuple(out.shape)
    return crossing.order, shapes


def crossing_values(
    port,
    blocks: list[Block],
    batch: dict,
    shapes: dict[int, tuple],
    instead: dict[int, np.ndarray] | None = None,
    cotangents: dict[int, np.ndarray] | None = None,
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Each boundary's value and the gradient there. Plain: the loss's gradient. With
    ``instead`` (block -> the input it is given) and ``cotangents`` (boundary -> the gradient
    that comes back to it), each block's output from that input, and the gradient its input
    gets back from its output's cotangent (``{}`` for a block given nothing). A gradient at a
    tensor that other layers read too (``Crossing.read_elsewhere``) is left out, and given
    TF1's inputs, the one at the input of the block before it."""
    n = len(blocks)
    isolated = instead is not None
    given = {  # an integer input (an Embedding's) is the batch's own, and has no gradient
        i: tf.constant(v) for i, v in (instead or {}).items() if np.issubdtype(v.dtype, np.floating)
    }
    probes = {} if isolated else {i: tf.zeros(shape, tf.float64) for i, shape in shapes.items()}
    back = {i: tf.constant(v) for i, v in (cotangents or {}).items()}
    shared: set[int] = set()  # boundaries that reach the loss round their block too

    @tf.function
    def run(batch, given, probes, back):
        x, y = port._xy(batch)
        with tf.GradientTape() as tape:
            tape.watch([given, probes])
            crossing = Crossing(blocks, given, probes)
            with crossing.watching():
                out = port.model(x, training=True)
            shared.update(crossing.read_elsewhere())  # before the sums below read them too
            values = dict(crossing.raw)
            values[n] = out
            if isolated:
                target = tf.add_n(
                    [tf.constant(0.0, tf.float64)]
                    + [
                        tf.reduce_sum(
                            tf.cast(values[i], tf.float64)
                            * tf.reshape(tf.cast(back[i], tf.float64), tf.shape(values[i]))
                        )
                        for i in back
                        if i in values and i - 1 in given
                    ]
                )
                watched = given
            else:
                out = out + tf.cast(probes[n], out.dtype)
                target = port.model.compute_loss(x=x, y=y, y_pred=out)
                watched = probes

        grads = tape.gradient(target, watched)
        return values, {i: g for i, g in grads.items() if g is not None}

    values, grads = port.without_updates(lambda _: run(tensors(batch), given, probes, back))(batch)
    # given TF1's input, a block whose output other layers read too gives back through them
    unclear = {i - 1 for i in shared} if isolated else set()
    return (
        {i: np.asarray(v) for i, v in values.items()},
        {i: np.asarray(g) for i, g in grads.items() if i not in shared | unclear},
    )
