"""The seed program ported to TensorFlow 2: tf.GradientTape, compiled with tf.function."""

from tf_impl.trainer import MODES, forward, loss_and_grads, train

__all__ = ["MODES", "forward", "loss_and_grads", "train"]
