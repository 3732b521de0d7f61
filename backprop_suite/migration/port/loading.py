"""The port's ``tf2_program()`` loaded from NEW.py, and the caller's Keras floatx kept around it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from backprop_suite.migration.programs import function, load_module


@contextlib.contextmanager
def kept_floatx() -> Iterator[None]:
    """The port is built with Keras's defaults, floatx and dtype policy float32, as in a fresh
    process (Keras fixes its dtype policy at first use, so an earlier float64 model in the same
    process would make the port's layers float64); the caller's settings are put back after."""
    import keras

    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def port_program(new_path: str):
    """NEW.py's module and its ``tf2_program``: read before the TF1 program runs, so that a
    missing function is reported before any work."""
    import tensorflow as tf

    module = load_module(new_path)
    if not tf.executing_eagerly():
        raise ValueError(
            f"{new_path} turned eager execution off (tf.compat.v1.disable_eager_execution or "
            "disable_v2_behavior): a TF2 port runs eagerly, and the TF1 program needs no such call"
        )
    return module, function(module, "tf2_program", new_path)
