"""The seed's network in NumPy, its backward pass written by hand. No autodiff, no TensorFlow."""

from manual_impl.network import (
    backward,
    backward_steps,
    forward,
    layer_outputs,
    loss_and_grads,
    train,
)

__all__ = [
    "backward",
    "backward_steps",
    "forward",
    "layer_outputs",
    "loss_and_grads",
    "train",
]
