"""Ops whose second derivative TensorFlow gets wrong, found in a traced loss, so that a failed
second-order check says where the fault is. ``tf.nn.moments`` (and so ``LayerNormalization``,
``GroupNormalization`` and ``BatchNormalization`` in training, through Keras's ``ops.moments``)
computes the variance around ``stop_gradient(mean)``: the first derivative is right, since the
deviations from the mean sum to zero, but the second misses the mean's own dependence on the
input. Any other ``stop_gradient`` on a path that depends on the weights does the same.
"""

from __future__ import annotations

from collections.abc import Callable


def stop_gradients(traced: Callable) -> list[str]:
    """The name scopes (the layers, for a Keras model called in it) of the ``StopGradient`` ops
    in ``traced``'s graph: a ``tf.function`` with an input signature; empty where it cannot be
    traced."""
    try:
        graph = traced.get_concrete_function().graph
    except Exception:
        return []
    scopes = []
    for op in graph.get_operations():
        if op.type == "StopGradient":
            scope = op.name.rsplit("/", 1)[0] if "/" in op.name else op.name
            if scope not in scopes:
                scopes.append(scope)
    return scopes


def second_order_note(traced: Callable) -> str:
    """What to add to a failed second-order check's message: the ``stop_gradient`` ops found
    and why they make TensorFlow's second derivative wrong; empty where there are none."""
    scopes = stop_gradients(traced)
    if not scopes:
        return ""
    return (
        f". The loss holds stop_gradient in {', '.join(scopes[:4])}"
        + (f" and {len(scopes) - 4} more" if len(scopes) > 4 else "")
        + ": TensorFlow's tf.nn.moments (LayerNormalization, GroupNormalization, BatchNormalization"
        " in training) stops the gradient of the mean, which leaves the first derivative right"
        " and the second wrong; the fault is TensorFlow's, not your code's"
    )
