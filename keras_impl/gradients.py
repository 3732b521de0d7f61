"""The loss Keras computes and its gradient for every weight, by each backend's own autodiff:
``tf.GradientTape``, ``jax.value_and_grad`` over ``stateless_call``, or PyTorch's ``backward``;
the model called in training mode, as ``fit`` calls it, unless told otherwise."""

from __future__ import annotations

import keras
import numpy as np


def _tensorflow(model: keras.Model, x0: np.ndarray, y0: np.ndarray, training: bool):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y_pred = model(x0, training=training)
        loss = model.compute_loss(x=x0, y=y0, y_pred=y_pred, training=False)
    return loss, tape.gradient(loss, model.trainable_variables)


def _jax(model: keras.Model, x0: np.ndarray, y0: np.ndarray, training: bool):
    import jax

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss_of(weights):
        y_pred, _ = model.stateless_call(weights, non_trainable, x0, training=training)
        return model.compute_loss(x=x0, y=y0, y_pred=y_pred, training=False)

    return jax.value_and_grad(loss_of)(trainable)


def _torch(model: keras.Model, x0: np.ndarray, y0: np.ndarray, training: bool):
    for variable in model.trainable_variables:
        variable.value.grad = None
    y_pred = model(x0, training=training)
    loss = model.compute_loss(x=x0, y=y0, y_pred=y_pred, training=False)
    loss.backward()
    return loss.detach(), [variable.value.grad for variable in model.trainable_variables]


BY_BACKEND = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def loss_and_gradients(model: keras.Model, x0: np.ndarray, y0: np.ndarray, training: bool = True):
    """``(loss, [gradient per trainable variable])`` as NumPy, on the running backend, the
    model called with ``training`` (Dropout drops, BatchNormalization uses the batch's
    statistics, only where it is True)."""
    loss, grads = BY_BACKEND[keras.backend.backend()](model, x0, y0, training)
    return float(keras.ops.convert_to_numpy(loss)), [keras.ops.convert_to_numpy(g) for g in grads]
