"""A gradient as a dense tensor. ``tape.gradient`` gives an ``IndexedSlices`` for a ``tf.gather``
of the variable (an embedding's lookup) and can give a ``tf.SparseTensor``; neither has
``.numpy()``, nor takes part in arithmetic as a tensor does."""

from __future__ import annotations


def dense(gradient):
    """``gradient`` as a dense ``tf.Tensor``: an ``IndexedSlices``'s rows summed where an index
    repeats (as ``tf.convert_to_tensor`` does, without its warning about a large one), a
    ``SparseTensor``'s values scattered into zeros, a tensor as it is. Differentiable, so a
    second-order tape can see through it."""
    import tensorflow as tf

    if isinstance(gradient, tf.IndexedSlices):
        if gradient.dense_shape is None:
            return tf.convert_to_tensor(gradient)
        return tf.math.unsorted_segment_sum(
            gradient.values, gradient.indices, gradient.dense_shape[0]
        )
    if isinstance(gradient, tf.SparseTensor):
        return tf.scatter_nd(gradient.indices, gradient.values, gradient.dense_shape)
    return tf.convert_to_tensor(gradient)
