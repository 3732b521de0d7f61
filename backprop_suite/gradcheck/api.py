"""The two entry points: a TensorFlow function's gradients with respect to its arguments, and a
Keras 3 model's loss gradients with respect to its trainable variables, each against float64
finite differences (``check``).

A function's output is reduced to a scalar with fixed random weights (seeded), so every output
element takes part. The numeric side always runs in float64: a function is called on float64
copies of its arguments, a float32 model is cloned into float64 with its weights; the analytic
side stays in the dtype given and is held to that dtype's bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from backprop_suite.gradcheck import numeric
from backprop_suite.gradcheck.check import (
    GradientReport,
    Variable,
    check,
    settle_bound,
    tolerance_of,
)
from backprop_suite.gradcheck.model_loss import FlatLoss, stateless_loss
from backprop_suite.quiet import noise_dropped
from backprop_suite.verify.tolerances import Tolerance


def weights_of(shape, seed: int) -> np.ndarray:
    """The fixed random weights that reduce an output of ``shape`` to a scalar."""
    return np.random.default_rng(seed + 7919).uniform(0.5, 1.5, shape)


@noise_dropped
def check_function_gradients(
    fn: Callable,
    *args,
    rtol: float | None = None,
    atol: float | None = None,
    fast: bool = False,
    seed: int = 0,
    order: int = 1,
) -> GradientReport:
    """``fn(*args)``'s gradients with respect to each argument (a tensor or array of floats):
    ``tf.GradientTape`` in the arguments' dtype against float64 differences of ``fn`` on float64
    copies; with ``order=2`` also a Hessian-vector product (``check_hessian_vector``). Raises
    ``GradientMismatch`` (an ``AssertionError``) naming the argument and index."""
    import tensorflow as tf

    if not args:
        raise ValueError("check_function_gradients needs at least one argument to differentiate")
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    tensors = [tf.convert_to_tensor(a) for a in args]
    for i, tensor in enumerate(tensors):
        if not tensor.dtype.is_floating:
            raise ValueError(f"argument {i} is {tensor.dtype.name}: only floats have gradients")
    dtype = tensors[0].dtype.name
    start = time.perf_counter()
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        output = tf.convert_to_tensor(fn(*tensors))
        weights = tf.constant(weights_of(output.shape, seed), output.dtype)
        total = tf.reduce_sum(output * weights)
    grads = tape.gradient(total, tensors, unconnected_gradients="zero")
    values = [np.asarray(t.numpy(), np.float64) for t in tensors]
    weights64 = weights_of(output.shape, seed)

    constants = [tf.constant(v) for v in values]

    def objective(i: int) -> Callable[[np.ndarray], float]:
        def f(value: np.ndarray) -> float:
            given = list(constants)
            given[i] = tf.constant(value)
            try:
                found = tf.convert_to_tensor(fn(*given))
            except Exception as error:
                raise ValueError(
                    f"{getattr(fn, '__name__', 'fn')} does not run on float64 arguments, which "
                    f"the numeric reference needs: {type(error).__name__}: {error}"
                ) from None
            return float(np.sum(np.asarray(found.numpy(), np.float64) * weights64))

        return f

    variables = [
        Variable(f"argument {i}", values[i], np.asarray(g.numpy()), objective(i))
        for i, g in enumerate(grads)
    ]
    report = check(variables, dtype, rtol, atol, fast, seed)
    if order == 2:
        found = check_hessian_vector(fn, tensors, values, seed, tolerance_of(dtype, rtol, atol))
        second = check(found, dtype, rtol, atol, seed=seed)
        report.variables += second.variables
    report.seconds = time.perf_counter() - start
    return report


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
        return tape.gradient(total, given, unconnected_gradients="zero")

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
        return numeric.Slopes(elements, slopes.central[part], slopes.step[part], slopes.rough[part])

    return [
        Variable(
            f"{names[i]} (Hessian-vector)",
            values[i],
            np.asarray(hv.numpy()),
            None,
            None,
            part_of(p),
        )
        for i, (hv, p) in enumerate(zip(analytic, parts))
    ]


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
