"""A Keras model's loss as a function of its trainable weights, called statelessly (the model's
variables are left as they are); ``flat_loss`` evaluates it at many points in one traced call."""

from __future__ import annotations

from collections.abc import Callable


def stateless_loss(model, loss: Callable, x, y, training: bool) -> Callable:
    """``loss(y, model(x))`` summed, plus the model's own losses, as a function of a list of
    trainable weights (``model.stateless_call``: the model's variables are left as they are)."""
    import tensorflow as tf

    fixed = [v.value for v in model.non_trainable_variables]

    def total_of(*weights):
        found, _, extra = model.stateless_call(
            list(weights), fixed, x, training=training, return_losses=True
        )
        value = tf.reduce_sum(loss(y, found))
        return value + sum(tf.cast(tf.reduce_sum(e), value.dtype) for e in extra)

    return total_of
