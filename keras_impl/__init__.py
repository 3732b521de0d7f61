"""The seed's network as keras.Sequential, trained by model.fit (Keras 3, on whichever backend
Keras was imported with; ``keras_impl.on_jax`` and ``on_torch`` run it on another, in a child
process)."""

from keras_impl.trainer import MODES, forward, loss_and_grads, train

__all__ = ["MODES", "forward", "loss_and_grads", "train"]
