"""The seed's network as keras.Sequential, trained by model.fit (Keras 3, on whichever backend
Keras was imported with; ``keras_impl.on_jax`` and ``on_torch`` run it on another, in a child
process)."""

import os
import sys

from backprop_suite.quiet import import_tensorflow

if "keras" not in sys.modules and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    import_tensorflow()  # before Keras imports it: quietly (on JAX or PyTorch it needs none)

from keras_impl.trainer import MODES, forward, loss_and_grads, train  # noqa: E402

__all__ = ["MODES", "forward", "loss_and_grads", "train"]
