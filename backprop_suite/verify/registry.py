"""The implementations by name, imported only when asked for (TensorFlow takes seconds)."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from backprop_suite.core.extras import install_hint

IMPLEMENTATIONS = {
    "manual": "manual_impl",
    "tf": "tf_impl",
    "keras": "keras_impl",
    "tf1": "backprop_suite.reference.tf1",
}
# Keras 3 on another backend, each run in a child process: asked for by name, never by default.
OTHER_BACKENDS = {"keras-jax": "keras_impl.on_jax", "keras-torch": "keras_impl.on_torch"}
KNOWN = {**IMPLEMENTATIONS, **OTHER_BACKENDS}
# What trains through tf.distribute when ``replicas`` > 1; the others stay single-device references.
DATA_PARALLEL = ("tf", "keras")


def parse_names(text: str) -> list[str]:
    """``"manual,tf"`` -> ["manual", "tf"]; ValueError for unknown or repeated names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("no implementation named")
    unknown = [name for name in names if name not in KNOWN]
    if unknown:
        raise ValueError(
            f"unknown implementation {unknown[0]!r}; expected some of {', '.join(KNOWN)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"an implementation is named twice in {text!r}")
    return names


def load_implementation(name: str) -> ModuleType:
    """The module with ``forward``, ``loss_and_grads`` and ``train`` for ``name``."""
    parse_names(name)
    return importlib.import_module(KNOWN[name])


BACKEND_INSTALL = {
    "jax": f"jax is in the jax extra (and dev): {install_hint('jax')}",
    "torch": install_hint("torch"),
}


def require_backend(backend: str) -> None:
    """A missing backend is a ``ValueError`` that says what to install."""
    if backend not in BACKEND_INSTALL:
        raise ValueError(
            f"unknown Keras backend {backend!r}; expected one of {', '.join(BACKEND_INSTALL)}"
        )
    if importlib.util.find_spec(backend) is None:
        raise ValueError(
            f"keras-{backend} needs {backend}, which is not installed; {BACKEND_INSTALL[backend]}"
        )
