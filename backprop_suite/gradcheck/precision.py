"""The precision a model's analytic gradients are computed in, which chooses their bound: the
narrowest of its layers' compute dtypes, its variables' dtype and its loss's (a Keras loss
computes in floatx, float32 by default, whatever its inputs). A mixed policy keeps float32
variables and computes in float16 or bfloat16: it is judged at the compute dtype's bound, and
named by both."""

from __future__ import annotations

import numpy as np

EPSILON = {"bfloat16": 2.0**-7, "float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52}
WIDTH = {dtype: -np.log2(eps) for dtype, eps in EPSILON.items()}  # bits of the significand


def computing(model) -> list:
    """The model's layers that compute: not its inputs, not a Sequential's or functional
    model's container, whose layers compute for it."""
    import keras
    from keras.src.models.functional import Functional

    InputLayer, Sequential = keras.layers.InputLayer, keras.Sequential

    layers = [model, *model._flatten_layers(include_self=False)]
    return [
        layer for layer in layers if not isinstance(layer, InputLayer | Functional | Sequential)
    ]


def precision_of(model, loss_dtype: str) -> tuple[str, str]:
    """The dtype whose bound holds the analytic gradients, and how the message names it."""
    computed = {layer.compute_dtype for layer in computing(model) if layer.compute_dtype in WIDTH}
    stored = {str(v.dtype) for v in model.trainable_variables if str(v.dtype) in WIDTH}
    narrowest = min(computed | stored | {loss_dtype} & set(WIDTH), key=WIDTH.__getitem__)
    variables = min(stored, key=WIDTH.__getitem__) if stored else narrowest
    layers_compute = min(computed, key=WIDTH.__getitem__) if computed else variables
    if WIDTH[layers_compute] < WIDTH[variables]:
        return narrowest, f"{layers_compute} compute, {variables} variables"
    return narrowest, narrowest
