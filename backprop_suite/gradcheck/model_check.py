"""A Keras 3 model's loss gradients with respect to its trainable variables against float64 finite
differences of a float64 copy of the model (``reference``), called statelessly on its weights
(``model_loss``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from backprop_suite.gradcheck.check import GradientReport, Variable, check, tolerance_of
from backprop_suite.gradcheck.flat_loss import FlatLoss
from backprop_suite.gradcheck.hessian import check_hessian_vector
from backprop_suite.gradcheck.model_loss import stateless_loss
from backprop_suite.gradcheck.reference import float64_copy, loss_in_float64
from backprop_suite.quiet import noise_dropped


@noise_dropped
def check_model_gradients(
    model,
    x,
    y,
    loss: Callable | str,
    *,
    training: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    backends: Sequence[str] = (),
    order: int = 1,
) -> GradientReport:
    """The gradients of ``loss(y, model(x))`` plus the model's own losses (regularizers) with
    respect to every trainable variable, named by its path; ``loss`` a callable or a Keras
    loss's name (``"mse"``). ``training`` is passed to the model
    (False by default: dropout would draw anew at every evaluation). The analytic gradients are
    held to the bound of the narrower of the variables' dtype and the loss's (a Keras loss
    computes in float32 unless given ``dtype``, even for a float64 model). ``backends``
    (``("tensorflow", "jax", "torch")``): also the same model's gradients on each backend
    against TensorFlow's, each at its bound (``backends.across_backends``). ``order=2``: also a
    Hessian-vector product over every trainable variable (``check_hessian_vector``, the model
    called statelessly on the weights)."""
    import keras
    import tensorflow as tf

    from backprop_suite.gradcheck.backends import missing

    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            raise ValueError(f"{loss!r} is not a Keras loss") from None

    variables = list(model.trainable_variables)
    if not variables:
        raise ValueError(f"{model.name} has no trainable variables")
    if isinstance(backends, str):
        raise ValueError(f"backends is a sequence of names, got the string {backends!r}")
    problem = missing(backends)
    if problem:
        raise ValueError(problem)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")

    start = time.perf_counter()
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss(y, model(x, training=training)))
        value += sum(tf.cast(tf.reduce_sum(term), value.dtype) for term in model.losses)
    grads = tape.gradient(value, variables, unconnected_gradients="zero")
    reference, loss64 = float64_copy(model), loss_in_float64(loss)
    x64, y64 = cast(x), cast(y)
    values = [np.asarray(v.numpy(), np.float64) for v in reference.trainable_variables]
    reference_loss = stateless_loss(reference, loss64, x64, y64, training)
    flat = FlatLoss(reference_loss, values)
    checked = [
        Variable(v.path, values[i], np.asarray(g.numpy()), flat.objective(i), flat.shifted(i))
        for i, (v, g) in enumerate(zip(variables, grads))
    ]
    dtype = min(np.dtype(variables[0].dtype), np.dtype(value.dtype.name), key=lambda d: d.itemsize)
    report = check(checked, dtype.name, rtol, atol, fast, seed)
    if order == 2:
        second = check_hessian_vector(
            stateless_loss(model, loss, x, y, training),
            [tf.convert_to_tensor(v) for v in variables],
            values,
            seed,
            tolerance_of(dtype.name, rtol, atol),
            reference_loss,
            [v.path for v in variables],
        )
        report.variables += check(second, dtype.name, rtol, atol, seed=seed).variables
    if backends:
        from backprop_suite.gradcheck.backends import across_backends

        report.backends = across_backends(model, x, y, loss, backends)
    report.seconds = time.perf_counter() - start
    return report


def cast(data: Sequence | np.ndarray):
    """Floating data in float64 (a list or dict of arrays element by element); integers as
    they are (class labels)."""
    if isinstance(data, dict):
        return {k: cast(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(cast(v) for v in data)
    array = np.asarray(data)
    return array.astype(np.float64) if np.issubdtype(array.dtype, np.floating) else array
