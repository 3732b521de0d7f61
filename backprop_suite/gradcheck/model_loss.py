"""A Keras model's loss as a function of some of its variables, called statelessly (the model's
variables are left as they are); ``flat_loss`` evaluates it at many points in one traced call."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from backprop_suite.gradcheck.draws import replayed


def total(value, extra: list):
    """The loss summed over its elements (a ``Loss`` object's batch mean as it is; a loss
    function's per-sample values summed, as the half-precision bounds were measured), plus the
    model's own losses (regularizers) summed."""
    import tensorflow as tf

    value = tf.reduce_sum(value)
    return value + sum(tf.cast(tf.reduce_sum(e), value.dtype) for e in extra)


def takes_training(model) -> bool:
    """Whether the model's ``call`` takes ``training`` (``stateless_call`` passes it on as it
    is, where ``model(x, training=...)`` leaves it out for a ``call`` without it)."""
    parameters = inspect.signature(model.call).parameters.values()
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters)


def stateless_loss(
    model,
    loss: Callable,
    x,
    y,
    training: bool,
    varied: list,
    draws: list[np.ndarray] | None = None,
) -> Callable:
    """``loss(y, model(x))`` (``total``) as a function of the values
    of ``varied`` (some of the model's variables, trainable or not); every other variable at
    its value. The model draws ``draws`` (``draws.recorded``) where it draws random numbers."""

    where = {id(v): k for k, v in enumerate(varied)}
    mode = {"training": training} if takes_training(model) else {}
    trainable, fixed = list(model.trainable_variables), list(model.non_trainable_variables)

    def given(variables: list, weights: tuple) -> list:
        return [weights[where[id(v)]] if id(v) in where else v.value for v in variables]

    def total_of(*weights):
        with replayed(draws or []):
            found, _, extra = model.stateless_call(
                given(trainable, weights),
                given(fixed, weights),
                x,
                return_losses=True,
                **mode,
            )
            return total(loss(y, found), extra)

    return total_of
