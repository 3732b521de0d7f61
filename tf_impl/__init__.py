"""The seed program ported to TensorFlow 2: tf.GradientTape, compiled with tf.function.

TensorFlow is imported when one of these names is first used, not with the package, so that the
parts of ``tf_impl`` that need no TensorFlow (the migration check's options and files) can check
a command line before the seconds that importing it takes."""

from __future__ import annotations

from importlib import import_module

from backprop_suite.quiet import import_tensorflow

__all__ = ["MODES", "forward", "loss_and_grads", "train"]


def __getattr__(name: str):
    if name in __all__:
        import_tensorflow()
        return getattr(import_module("tf_impl.trainer"), name)
    raise AttributeError(f"module 'tf_impl' has no attribute {name!r}")
