"""K nets of one structure trained at once in TF2: the stacked net inside the compiled loop.

Each weight is one variable of shape (K, fan_in, fan_out) (biases (K, fan_out)) and each layer's
output is (K, samples, width): ``tf.matmul`` multiplies the K nets' matrices in one batched call.
The tape differentiates the sum of the K nets' losses, whose gradient for net k's weights is
net k's own loss's gradient. TF1's update kernels are elementwise, so ``TF1Optimizer`` updates
the stacked variables exactly as it updates one net's.
"""

from __future__ import annotations

from collections.abc import Mapping

import tensorflow as tf

from backprop_suite.core import TrainConfig, check_data, require_one_device, step_batches
from backprop_suite.core.config import choice
from backprop_suite.core.many import ManyResult, check_stack
from tf_impl.losses import loss_of
from tf_impl.network import (
    ACTIVATIONS,
    CALL_ARGUMENTS,
    loop_signature,
    packed_batches,
    weight_variables,
)
from tf_impl.optimizers import TF1Optimizer


def layer_outputs(weights: list, x0: tf.Tensor, cfg: TrainConfig) -> list:
    """[x0, h1, …, y_out] for the K nets: x0 (samples, inputs) is shared, the rest
    (K, samples, width)."""
    activation = choice("activation", cfg.activation, ACTIVATIONS)
    h = [x0]
    for m, b in zip(weights[0::2], weights[1::2]):
        h.append(activation(tf.matmul(h[-1], m) + b[:, None, :]))
    return h


class ManyTrainer:
    """Stacked variables for K nets of one structure, and the compiled loop that trains them."""

    def __init__(self, cfg: TrainConfig, count: int) -> None:
        self.cfg = cfg
        self.variables = weight_variables(cfg, leading=(count,))
        self.optimizer = TF1Optimizer(self.variables, cfg)
        signature = loop_signature(cfg)
        self.loop = tf.function(self._loop, input_signature=signature)
        self.outputs = tf.function(
            lambda x0: layer_outputs(self.variables, x0, cfg)[-1], input_signature=signature[:1]
        )

    def _step(self, x0, y0, learning_rate):
        with tf.GradientTape() as tape:
            y_out = layer_outputs(self.variables, x0, self.cfg)[-1]
            losses = loss_of(y0, y_out, self.cfg, axis=[1, 2])
            total = tf.reduce_sum(losses)
        self.optimizer.apply(self.variables, tape.gradient(total, self.variables), learning_rate)
        return losses

    def _loop(self, x0, y0, learning_rate, rows, starts):
        steps = tf.size(starts) - 1
        losses = tf.TensorArray(self.cfg.dtype, size=steps)
        for step in tf.range(steps):
            batch = rows[starts[step] : starts[step + 1]]
            losses = losses.write(
                step, self._step(tf.gather(x0, batch), tf.gather(y0, batch), learning_rate)
            )
        return losses.stack()


_trainers: dict[tuple, ManyTrainer] = {}


def train_many(
    params_stack: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> ManyResult:
    """Train K nets at once, net k from ``params_stack[key][k]``; every net sees the same
    batches (one permutation per epoch when shuffled)."""
    stack = check_stack(params_stack, cfg)
    x0, y0 = check_data(x, y, cfg)
    require_one_device(cfg, "tf_impl.train_many")
    count = next(iter(stack.values())).shape[0]
    key = (cfg.cache_key(CALL_ARGUMENTS), count)
    if key not in _trainers:
        _trainers[key] = ManyTrainer(cfg, count)
    trainer = _trainers[key]
    for variable, name in zip(trainer.variables, cfg.param_shapes()):
        variable.assign(stack[name])
    trainer.optimizer.reset()
    rows, starts = packed_batches(step_batches(len(x0), cfg))
    rate = tf.constant(cfg.learning_rate, dtype=cfg.dtype)
    losses = trainer.loop(x0, y0, rate, rows, starts).numpy()
    return ManyResult(
        params={name: v.numpy() for name, v in zip(cfg.param_shapes(), trainer.variables)},
        losses=losses.T.copy(),
        outputs=trainer.outputs(x0).numpy(),
    )
