"""What ``check_model_gradients`` refuses before any work, each a ``ValueError`` that names the
problem: a loss that is not one, a model that is not built or has nothing to check, and a y
that the loss would broadcast against the outputs into another shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def loss_of(loss: Callable | str) -> Callable:
    """``loss`` itself, or the Keras loss of that name."""
    import keras

    if isinstance(loss, str):
        try:
            return keras.losses.get(loss)
        except ValueError:
            raise ValueError(f"{loss!r} is not a Keras loss") from None
    if not callable(loss):
        raise ValueError(f"loss must be a callable or a Keras loss's name, got {loss!r}")
    return loss


def refuse_model(model) -> None:
    import keras

    if not isinstance(model, keras.layers.Layer):  # a Model is a Layer
        raise ValueError(f"model must be a Keras 3 model, got {type(model).__name__}")
    if not model.built:
        raise ValueError(f"{model.name} is not built: call it on a batch or give it an Input")
    if not model.trainable_variables:
        raise ValueError(f"{model.name} has no trainable variables")


def refuse_options(backends: Sequence[str], order: int, fast: bool | str) -> None:
    from backprop_suite.gradcheck.backends import missing

    if isinstance(backends, str):
        raise ValueError(f"backends is a sequence of names, got the string {backends!r}")
    problem = missing(backends)
    if problem:
        raise ValueError(problem)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    if fast not in (True, False, "auto"):
        raise ValueError(f"fast must be True, False or 'auto', got {fast!r}")


def squeezed(y_shape: tuple, output_shape: tuple, keras_loss: bool) -> tuple:
    """y's shape as the loss sees it: a Keras loss (object or function) first drops or adds a
    last axis of 1 to bring y and the outputs to the same rank."""
    if not keras_loss:
        return y_shape
    if len(y_shape) == len(output_shape) + 1 and y_shape[-1:] == (1,):
        return y_shape[:-1]
    if len(output_shape) == len(y_shape) + 1 and output_shape[-1:] == (1,):
        return (*y_shape, 1)
    return y_shape


def refuse_broadcast(y, output, loss: Callable) -> None:
    """A y and outputs of shapes that broadcast into a third shape (an (n, 3) y against (n, 1)
    outputs, an (n,) y against (n, 1) outputs in a plain function): the loss would compare every
    row with every other, silently."""
    import keras

    if isinstance(y, dict | list | tuple) or isinstance(output, dict | list | tuple):
        return
    y_shape, output_shape = tuple(np.shape(y)), tuple(output.shape)
    of_keras = isinstance(loss, keras.losses.Loss) or getattr(loss, "__module__", "").startswith(
        "keras."
    )
    seen = squeezed(y_shape, output_shape, of_keras)
    try:
        together = np.broadcast_shapes(seen, output_shape)
    except ValueError:
        return  # the loss takes them as they are (class labels against probabilities) or fails
    if together != output_shape:
        raise ValueError(
            f"y of shape {y_shape} against outputs of shape {output_shape}: they would broadcast "
            f"to {together}, each output compared with other rows' targets; give y the outputs' "
            "shape"
        )
