"""Two Keras 3.15 operations that round float64 through float32 on the JAX backend, and their
exact replacements there.

Keras's JAX ``tanh`` casts its input to ``result_type(x.dtype, float)`` and its ``mean`` computes in
``result_type(x.dtype, "float32")``; Keras 3.15's ``result_type`` gives float32 for both when ``x``
is float64, so a float64 run computes them in float32 (1.8e-7 off ``np.tanh``;
``tests/backends/test_keras_backends.py`` measures it in a JAX process). On JAX these call
``jax.numpy`` directly; on every other backend they are Keras's own, so the TensorFlow numbers do
not change.
"""

from __future__ import annotations

import keras

from backprop_suite.core.config import ACTIVATIONS, choice


def _on_jax() -> bool:
    return keras.backend.backend() == "jax"


def tanh(x):
    if _on_jax():
        import jax.numpy as jnp

        return jnp.tanh(x)
    return keras.ops.tanh(x)


def mean(x):
    if _on_jax():
        import jax.numpy as jnp

        return jnp.mean(x)
    return keras.ops.mean(x)


def activation(name: str):
    """What ``Dense(activation=...)`` gets: Keras's own by name, but the exact tanh on JAX."""
    choice("activation", name, ACTIVATIONS)
    return tanh if name == "tanh" and _on_jax() else name
