"""The seed's network as keras.Sequential, trained by model.fit (Keras 3, TensorFlow backend)."""

from keras_impl.trainer import MODES, forward, loss_and_grads, train

__all__ = ["MODES", "forward", "loss_and_grads", "train"]
