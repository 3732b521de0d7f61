"""The seed program ported to TF2: tf.Variable, tf.GradientTape, the update by hand.

For the 2-3-1 net the loop below is, line by line, the seed's
    h1 = tf.sigmoid(tf.matmul(x0, m1) + b1)
    y_out = tf.sigmoid(tf.matmul(h1, m2) + b2)
    loss = tf.reduce_sum(tf.square(y0 - y_out))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice
from tf_impl.losses import loss_of
from tf_impl.optimizers import TF1Optimizer

ACTIVATIONS = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}


# What the compiled loops take as arguments, so one trace serves every value of them: the rate,
# and the weights, data and batches (init, seed, steps, batch_size, shuffle) they are given
CALL_ARGUMENTS = ("learning_rate", "steps", "batch_size", "shuffle", "init", "seed")


def layer_outputs(weights: Sequence[tf.Tensor], x0: tf.Tensor, cfg: TrainConfig) -> list:
    """[x0, h1, …, y_out] for weights in the order m1, b1, m2, b2, …"""
    activation = choice("activation", cfg.activation, ACTIVATIONS)
    h = [x0]
    for m, b in zip(weights[0::2], weights[1::2]):
        h.append(activation(tf.matmul(h[-1], m) + b))
    return h


def train_step(
    variables: Sequence[tf.Variable],
    x0: tf.Tensor,
    y0: tf.Tensor,
    learning_rate: tf.Tensor,
    cfg: TrainConfig,
    optimizer: TF1Optimizer,
) -> tf.Tensor:
    """One update, the TF2 form of ``optimizer.minimize(loss)``: for the seed's
    ``GradientDescentOptimizer(lr)``, ``m.assign_sub(lr * dloss/dm)`` for every weight.
    Returns the loss before the update."""
    with tf.GradientTape() as tape:
        y_out = layer_outputs(variables, x0, cfg)[-1]
        loss = loss_of(y0, y_out, cfg)
    grads = tape.gradient(loss, variables)
    optimizer.apply(variables, grads, learning_rate)
    return loss


def weight_variables(cfg: TrainConfig, leading: tuple[int, ...] = ()) -> list[tf.Variable]:
    """Variables ``m1, b1, m2, b2, …`` of ``cfg.dtype``, zero until assigned, each shaped
    ``(*leading, *shape)``: one net's weights, or ``leading=(K,)`` for K nets stacked."""
    return [
        tf.Variable(tf.zeros((*leading, *shape), dtype=cfg.dtype), name=key)
        for key, shape in cfg.param_shapes().items()
    ]


def packed_batches(batches: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``step_batches`` as a compiled loop takes them (``loop_signature``): every step's rows in
    one array, and where each step's rows start (one more entry than steps)."""
    starts = np.cumsum([0] + [len(batch) for batch in batches], dtype=np.int32)
    return np.concatenate(batches).astype(np.int32), starts


def loop_signature(cfg: TrainConfig) -> list[tf.TensorSpec]:
    """A compiled loop's arguments: x0, y0, the rate, every step's rows and where each step's
    rows start."""
    data = tf.TensorSpec([None, None], cfg.dtype)
    rows = tf.TensorSpec([None], tf.int32)
    return [data, data, tf.TensorSpec([], cfg.dtype), rows, rows]
