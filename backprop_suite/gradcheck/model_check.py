"""A Keras 3 model's loss gradients with respect to its trainable variables against float64 finite
differences of a float64 copy of the model (``reference``), called statelessly on its weights
(``model_loss``), drawing the random numbers the model drew (``draws``); the model is left as it
was given (``model_state``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from backprop_suite.gradcheck.check import (
    GradientMismatch,
    GradientReport,
    Variable,
    VariableReport,
    check,
    tolerance_of,
)
from backprop_suite.gradcheck.dense import dense
from backprop_suite.gradcheck.draws import recorded
from backprop_suite.gradcheck.flat_loss import FlatLoss
from backprop_suite.gradcheck.foresight import chosen_mode, counted, progress
from backprop_suite.gradcheck.hessian import check_hessian_vector
from backprop_suite.gradcheck.known_faults import second_order_note
from backprop_suite.gradcheck.model_inputs import (
    loss_of,
    refuse_broadcast,
    refuse_model,
    refuse_options,
)
from backprop_suite.gradcheck.model_loss import stateless_loss, total
from backprop_suite.gradcheck.model_state import kept_as_it_was
from backprop_suite.gradcheck.precision import EPSILON, precision_of
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
    fast: bool | str = False,
    seed: int = 0,
    backends: Sequence[str] = (),
    order: int = 1,
    reference: Callable | None = None,
) -> GradientReport:
    """The gradients of ``loss(y, model(x, training=training))`` summed over its elements (a
    ``Loss`` object gives the batch mean, as ``fit`` takes it; a loss function or name gives
    per-sample values, which are summed), plus the model's own losses (regularizers), with
    respect to every trainable variable, named by its path; ``loss`` a
    callable or a Keras loss's name (``"mse"``). In training mode the random numbers the model
    draws (Dropout, GaussianNoise) are drawn once and used on every side. The analytic
    gradients are held to the bound of the narrowest of the layers' compute dtype, the
    variables' and the loss's. ``reference``: a function that builds the same model in float64,
    where the model cannot be rebuilt from its config. ``backends`` (``("tensorflow", "jax",
    "torch")``): also the same model's gradients on each backend against TensorFlow's, each at
    its bound (``backends.across_backends``). ``order=2``: also a Hessian-vector product over
    every trainable variable (``check_hessian_vector``). ``fast``: random projections first
    (``check``); ``"auto"``: where the full check is estimated over a minute; a full check
    estimated over an hour is refused (``foresight``). The model is left as it was given."""
    import tensorflow as tf

    loss = loss_of(loss)
    refuse_model(model)
    refuse_options(backends, order, fast)
    start = time.perf_counter()
    variables = list(model.trainable_variables)
    with kept_as_it_was(model):
        with recorded() as draws, tf.GradientTape() as tape:
            output = model(x, training=training)
            refuse_broadcast(y, output, loss)
            value = total(loss(y, output), model.losses)
        grads = [dense(g) for g in tape.gradient(value, variables, unconnected_gradients="zero")]
        x64, y64 = cast(x), cast(y)
        copy, pairs = float64_copy(model, x64, reference)
    compute, label = precision_of(model, value.dtype.name)
    varied = [pairs[id(v)] for v in variables]
    values = [np.asarray(v.numpy(), np.float64) for v in varied]
    reference_loss = stateless_loss(copy, loss_in_float64(loss), x64, y64, training, varied, draws)
    flat = FlatLoss(reference_loss, values)
    same_model(flat, float(value), compute)
    fast, estimate = chosen_mode(fast, flat.many, flat.flat.size)
    bar = None if fast else progress(estimate, flat.flat.size)
    checked = [
        Variable(
            v.path,
            values[i],
            np.asarray(g.numpy()),
            flat.objective(i),
            counted(flat.shifted(i), bar),
        )
        for i, (v, g) in enumerate(zip(variables, grads))
    ]
    try:
        report = check(checked, compute, rtol, atol, fast, seed, label)
    except GradientMismatch as failed:
        if compute in HALF and failed.report is not None:
            names = [v.path for v in variables]
            bound = tolerance_of(compute, rtol, atol)
            refuse_rounding(failed.report, reference_loss, values, names, bound)
        raise
    finally:
        if bar is not None:
            bar.close()
    smooth_enough(report, values)
    if order == 2:
        second = check_hessian_vector(
            stateless_loss(model, loss, x, y, training, variables, draws),
            [tf.convert_to_tensor(v) for v in variables],
            values,
            seed,
            tolerance_of(compute, rtol, atol),
            reference_loss,
            [v.path for v in variables],
        )
        try:
            report.variables += check(second, compute, rtol, atol, seed=seed, label=label).variables
        except GradientMismatch as failed:
            raise GradientMismatch(f"{failed}{second_order_note(flat.at)}") from None
    if backends:
        from backprop_suite.gradcheck.backends import across_backends

        report.backends = across_backends(model, x, y, loss, backends, training, draws)
    report.seconds = time.perf_counter() - start
    return report


KINKS_ALARM = 0.1  # of all the elements; 0 of 17,000 on the smooth field models


def smooth_enough(report: GradientReport, values: list[np.ndarray]) -> None:
    """A check whose elements are mostly kinks judged too little to pass: on the field models
    of smooth layers not one element of 17,000 was a kink, and a reference that computes in
    float32 somewhere made 61-79% of them kinks. Counted against all the model's elements, in
    fast mode too, where only those of a failed projection are checked one by one."""
    elements = sum(v.size for v in values)
    kinks = sum(len(r.kinks) for r in report.variables)
    if kinks >= 3 and kinks > KINKS_ALARM * elements:
        most = max(report.variables, key=lambda r: len(r.kinks))
        raise ValueError(
            f"{kinks} of the model's {elements} elements show a kink at the point ({most.name} "
            f"{len(most.kinks)}), where the numeric derivative could not be taken and nothing "
            "was judged: either the model sits on kinks (ReLU inputs at exactly 0, ties in a "
            "max: move the point, other weights or data) or the float64 reference is not "
            "smooth where the model is (it rounds to float32 somewhere)"
        )


HALF = ("float16", "bfloat16")


def refuse_rounding(
    failed: VariableReport, reference_loss: Callable, values: list, names: list[str], bound
) -> None:
    """A half-precision failure that the float64 copy's own analytic gradient does not share:
    where the float64 tape agrees with the differences and the half-precision one does not, the
    half precision's rounding moved the model across a kink (a ReLU input of the other sign,
    measured on the field's ReLU transformer) and nothing can be judged there: a
    ``ValueError`` that says so. A wrong gradient rule is wrong in float64 too, and stays a
    ``GradientMismatch``."""
    import tensorflow as tf

    tensors = [tf.constant(v) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        total = reference_loss(*tensors)
    found = tape.gradient(total, tensors, unconnected_gradients="zero")
    own = np.asarray(dense(found[names.index(failed.name)]).numpy())
    scale = max(1.0, float(np.max(np.abs(own))))
    at = float(own[failed.index])
    if abs(at - failed.numeric) <= bound.atol * scale + bound.rtol * abs(failed.numeric):
        raise ValueError(
            f"{failed.name}{list(failed.index)} cannot be judged in half precision: the float64 "
            f"copy's own gradient there, {at!r}, agrees with the differences ({failed.numeric!r}) "
            f"and the model's, {failed.analytic!r}, does not. The half precision's rounding "
            "moves the model across a kink there (a ReLU input of the other sign): check it "
            "under a float32 policy"
        )


def same_model(flat: FlatLoss, analytic: float, compute: str) -> None:
    """The float64 reference computes the model's loss: the same at the point to the compute
    dtype's rounding (√ε of it, relative, and of float32 at least: a float64 model rounds its
    inputs to a float32 ``Input``), and the same each time it is evaluated. A reference
    that draws random numbers of its own (``tf.random`` in a layer) or computes another model
    is a ``ValueError``: its differences would judge the wrong function."""
    first, again = float(flat.at(flat.flat)), float(flat.at(flat.flat))
    if not (np.isfinite(analytic) and np.isfinite(first)):
        raise ValueError(
            f"the loss is not finite at the point (the model's {analytic!r}, the float64 "
            f"copy's {first!r}): there is no gradient to check"
        )
    if first != again:
        raise ValueError(
            f"the model's loss is {first!r} and then {again!r} at the same weights: it draws "
            "random numbers outside keras.random (tf.random, tf.nn.dropout), which the check "
            "cannot draw again; draw them through keras.random with a SeedGenerator, or check "
            "with training=False"
        )
    bound = np.sqrt(max(EPSILON[compute], EPSILON["float32"])) * max(1.0, abs(first))
    if not abs(first - analytic) <= bound:
        raise ValueError(
            f"the float64 copy's loss {first!r} is not the model's {analytic!r} (each summed "
            f"over its elements, with the model's own losses; further apart "
            f"than {bound:.2g}): the copy does not compute what the model does. A reference= "
            "must build the same model in float64; without one, give one"
        )


def cast(data: Sequence | np.ndarray):
    """Floating data in float64 (a list or dict of arrays element by element); integers as
    they are (class labels)."""
    if isinstance(data, dict):
        return {k: cast(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(cast(v) for v in data)
    array = np.asarray(data)
    return array.astype(np.float64) if np.issubdtype(array.dtype, np.floating) else array
