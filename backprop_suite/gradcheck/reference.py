"""The numeric reference's model and loss: float64 copies of the user's."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def float64_copy(model):
    """``model`` cloned layer by layer in float64, with its weights; ``model`` itself when its
    variables are float64 already."""
    import keras

    if all(v.dtype == "float64" for v in model.trainable_variables):
        return model

    def in_float64(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float64"})

    compiled = model.compiled  # clone_model compiles the copy from the model's config, which
    model.compiled = False  # fails for a loss function it cannot find; the copy needs no compile
    try:
        clone = keras.models.clone_model(model, clone_function=in_float64)
    except Exception as error:
        raise ValueError(
            f"cannot clone {model.name} into float64 for the numeric reference "
            f"({type(error).__name__}: {error}): build the model in float64, or give its layers "
            "a get_config"
        ) from None
    finally:
        model.compiled = compiled
    for target, source in zip(clone.weights, model.weights):
        target.assign(np.asarray(source.numpy(), np.float64))
    return clone


def loss_in(loss: Callable, dtype: str) -> Callable:
    """A Keras ``Loss`` computes in its own dtype (floatx, float32 by default) whatever its
    inputs: the same loss in ``dtype``. A plain function computes in its inputs' dtype already,
    and is returned as it is."""
    import keras

    if isinstance(loss, keras.losses.Loss):
        return loss.__class__.from_config({**loss.get_config(), "dtype": dtype})
    return loss


def loss_in_float64(loss: Callable) -> Callable:
    """The loss for the numeric reference: ``loss_in`` float64."""
    return loss_in(loss, "float64")
