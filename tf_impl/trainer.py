"""Training on the contract, compiled by default.

The whole loop runs inside one ``tf.function``. Its trace is cached per network structure, so a
second ``train`` call with the same shapes and config runs the compiled graph again instead of
tracing anew (tracing costs far more than the 500 steps themselves; ``scripts/bench.py`` measures
both).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from backprop_suite.core import (
    TrainConfig,
    TrainResult,
    check_inputs,
    check_params,
    check_x,
    step_batches,
)
from backprop_suite.core.batching import is_full_batch
from tf_impl import distributed
from tf_impl.losses import loss_of
from tf_impl.network import (
    CALL_ARGUMENTS,
    layer_outputs,
    packed_batches,
    train_step,
    weight_variables,
)
from tf_impl.optimizers import TF1Optimizer

MODES = ("loop", "step", "eager")
UNROLL = 5


class CompiledTrainer:
    """tf.Variables for one network structure and the compiled training loops that update them."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.variables = weight_variables(cfg)
        self.optimizer = TF1Optimizer(self.variables, cfg)
        data = tf.TensorSpec([None, None], cfg.dtype)
        rate = tf.TensorSpec([], cfg.dtype)
        steps = tf.TensorSpec([], tf.int32)
        rows = tf.TensorSpec([None], tf.int32)
        self.full_batch_loop = tf.function(
            self._full_batch_loop, input_signature=[data, data, rate, steps]
        )
        self.batched_loop = tf.function(
            self._batched_loop, input_signature=[data, data, rate, rows, rows]
        )
        self.one_step = tf.function(self._one_step, input_signature=[data, data, rate])
        self.outputs = tf.function(self._outputs, input_signature=[data])

    def _outputs(self, x0: tf.Tensor) -> tf.Tensor:
        return layer_outputs(self.variables, x0, self.cfg)[-1]

    def _one_step(self, x0: tf.Tensor, y0: tf.Tensor, learning_rate: tf.Tensor) -> tf.Tensor:
        return train_step(self.variables, x0, y0, learning_rate, self.cfg, self.optimizer)

    def _full_batch_loop(self, x0, y0, learning_rate, steps):
        # UNROLL steps per turn of the graph's while loop: fewer turns, less loop bookkeeping
        # per step; the arithmetic of each step is unchanged
        losses = tf.TensorArray(self.cfg.dtype, size=steps)
        for block in tf.range(steps // UNROLL):
            for offset in range(UNROLL):
                step = block * UNROLL + offset
                losses = losses.write(step, self._one_step(x0, y0, learning_rate))
        for step in tf.range(steps - steps % UNROLL, steps):
            losses = losses.write(step, self._one_step(x0, y0, learning_rate))
        return losses.stack()

    def _batched_loop(self, x0, y0, learning_rate, rows, starts):
        steps = tf.size(starts) - 1
        losses = tf.TensorArray(self.cfg.dtype, size=steps)
        for step in tf.range(steps):
            batch = rows[starts[step] : starts[step + 1]]
            loss = self._one_step(tf.gather(x0, batch), tf.gather(y0, batch), learning_rate)
            losses = losses.write(step, loss)
        return losses.stack()

    def run(
        self, params: dict, x0: np.ndarray, y0: np.ndarray, cfg: TrainConfig, mode: str
    ) -> np.ndarray:
        """Train from ``params`` with ``cfg``'s rate, steps and batches (its structure is this
        trainer's); returns the per-step losses and leaves the trained weights in the variables."""
        for variable, key in zip(self.variables, cfg.param_shapes()):
            variable.assign(params[key])
        self.optimizer.reset()
        learning_rate = tf.constant(cfg.learning_rate, dtype=cfg.dtype)
        full_batch = is_full_batch(len(x0), cfg)
        if mode == "loop" and full_batch:
            return self.full_batch_loop(x0, y0, learning_rate, cfg.steps).numpy()
        batches = step_batches(len(x0), cfg)
        if mode == "loop":
            rows, starts = packed_batches(batches)
            return self.batched_loop(x0, y0, learning_rate, rows, starts).numpy()
        step = self.one_step if mode == "step" else self._one_step
        losses = [step(x0[batch], y0[batch], learning_rate) for batch in batches]
        return np.array([loss.numpy() for loss in losses], dtype=cfg.dtype)


_trainers: dict[tuple, CompiledTrainer] = {}


def trainer_for(cfg: TrainConfig) -> CompiledTrainer:
    """The cached trainer for ``cfg``'s structure and optimizer; the rate, steps and data are
    call arguments."""
    key = cfg.cache_key(CALL_ARGUMENTS)
    if key not in _trainers:
        _trainers[key] = CompiledTrainer(cfg)
    return _trainers[key]


def forward(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """y_out for inputs ``x``, shape (n, layers[-1])."""
    params = check_params(params, cfg)
    x0 = check_x(x, cfg)
    weights = [tf.constant(params[key]) for key in cfg.param_shapes()]
    return layer_outputs(weights, tf.constant(x0), cfg)[-1].numpy()


def loss_and_grads(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss on (x, y) and its gradient for every weight, by ``tf.GradientTape``."""
    params, x0, y0 = check_inputs(params, x, y, cfg)
    variables = [tf.Variable(params[key]) for key in cfg.param_shapes()]
    with tf.GradientTape() as tape:
        y_out = layer_outputs(variables, tf.constant(x0), cfg)[-1]
        loss = loss_of(tf.constant(y0), y_out, cfg)
    grads = tape.gradient(loss, variables)
    return float(loss), {key: g.numpy() for key, g in zip(cfg.param_shapes(), grads)}


def train(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig, mode: str = "loop"
) -> TrainResult:
    """``cfg.steps`` updates. ``mode="loop"``: the whole loop in one compiled ``tf.function``
    (default); ``"step"``: a compiled function per step; ``"eager"``: plain eager, for debugging.
    ``cfg.replicas`` > 1: data-parallel on that many logical CPUs (``tf_impl.distributed``)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    params, x0, y0 = check_inputs(params, x, y, cfg)
    if cfg.replicas > 1:
        if mode != "loop":
            raise ValueError(f"replicas={cfg.replicas} trains in mode 'loop' only, not {mode!r}")
        return distributed.train(params, x0, y0, cfg)
    trainer = trainer_for(cfg)
    losses = trainer.run(params, x0, y0, cfg, mode)
    trained = {key: v.numpy().copy() for key, v in zip(cfg.param_shapes(), trainer.variables)}
    return TrainResult(params=trained, losses=losses, outputs=trainer.outputs(x0).numpy())
