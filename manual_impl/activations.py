"""Activations and their derivatives, each rule beside its function.

Every derivative is written in terms of the activation's output ``h``, as backprop has it at hand.
"""

from __future__ import annotations

import numpy as np


def sigmoid(net: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-net)) as exp(-log(1 + exp(-net))): logaddexp never overflows, for any |net|
    return np.exp(-np.logaddexp(0, -net))


def sigmoid_derivative(h: np.ndarray) -> np.ndarray:
    return h * (1 - h)


def tanh(net: np.ndarray) -> np.ndarray:
    return np.tanh(net)


def tanh_derivative(h: np.ndarray) -> np.ndarray:
    return 1 - h * h


def relu(net: np.ndarray) -> np.ndarray:
    return np.maximum(net, 0)


def relu_derivative(h: np.ndarray) -> np.ndarray:
    return (h > 0).astype(h.dtype)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
}
