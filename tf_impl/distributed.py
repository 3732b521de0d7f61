"""The seed net trained data-parallel: a TF2 custom loop with ``strategy.run`` and a reduce.

Each replica holds a copy of every weight (mirrored variables), takes its share of the step's
batch, and differentiates its share of the loss. The replicas' gradients are summed
(``all_reduce``) and every replica applies the same update to its copy, so the copies stay equal.
The loss a replica differentiates has to be its share of the *global* loss, or the net trains at
another rate:

- ``sum_squares`` (the seed's): the sum over its own rows, divided by nothing; the replicas'
  sums add up to the whole batch's sum.
- ``mean_squares``: the sum over its own rows divided by the element count of the *global*
  batch, as ``tf.nn.compute_average_loss(..., global_batch_size=...)`` divides. Its own mean
  instead (``scaling="per_replica"``) trains N times too fast.

``scaling="averaged"`` averages the summed gradients over the replicas, as TF1's tower programs
averaged theirs by hand: right for a mean over each tower, 1/N of the rate for the seed's sum. Both
wrong scalings are here to be measured (``tests/distributed/test_distributed.py``), never defaults.

A batch is split as ``strategy.experimental_distribute_dataset`` splits one, which is what
``model.fit`` sees: ceil(B/N) rows per replica in order, the last replicas what is left, maybe
nothing.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from backprop_suite.core import TrainConfig, TrainResult, check_inputs, step_batches
from backprop_suite.distribute.devices import strategy_for
from tf_impl.losses import loss_of
from tf_impl.network import (
    CALL_ARGUMENTS,
    layer_outputs,
    loop_signature,
    packed_batches,
    weight_variables,
)
from tf_impl.optimizers import TF1Optimizer

SCALINGS = ("global", "per_replica", "averaged")
SUM = tf.distribute.ReduceOp.SUM


def share_bounds(batch_rows: tf.Tensor, replica: int, replicas: int) -> tuple:
    """Where replica ``replica`` 's rows start and stop in a batch of ``batch_rows``."""
    per_replica = (batch_rows + replicas - 1) // replicas
    start = tf.minimum(replica * per_replica, batch_rows)
    return start, tf.minimum(start + per_replica, batch_rows)


def replica_loss(
    y0: tf.Tensor, y_out: tf.Tensor, cfg: TrainConfig, global_elements: tf.Tensor, scaling: str
) -> tf.Tensor:
    """This replica's share of the loss (``scaling="global"``), or one of the wrong ones."""
    if cfg.loss != "mean_squares" or scaling == "per_replica":
        return loss_of(y0, y_out, cfg)
    return tf.reduce_sum(tf.square(y0 - y_out)) / global_elements


class DistributedTrainer:
    """Mirrored variables for one structure under ``strategy``, and the compiled loop."""

    def __init__(self, cfg: TrainConfig, strategy: tf.distribute.Strategy, scaling: str) -> None:
        self.cfg, self.strategy, self.scaling = cfg, strategy, scaling
        with strategy.scope():
            self.variables = weight_variables(cfg)
            self.optimizer = TF1Optimizer(self.variables, cfg)
        signature = loop_signature(cfg)
        self.loop = tf.function(self._loop, input_signature=signature)
        self.outputs = tf.function(
            lambda x0: layer_outputs(self.variables, x0, cfg)[-1], input_signature=signature[:1]
        )

    def _replica_step(self, x0, y0, learning_rate, global_elements):
        context = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            y_out = layer_outputs(self.variables, x0, self.cfg)[-1]
            loss = replica_loss(y0, y_out, self.cfg, global_elements, self.scaling)
        grads = context.all_reduce(SUM, tape.gradient(loss, self.variables))
        if self.scaling == "averaged":
            replicas = tf.constant(context.num_replicas_in_sync, self.cfg.dtype)
            grads = [grad / replicas for grad in grads]
        self.optimizer.apply(self.variables, grads, learning_rate)
        return loss

    def _loop(self, x0, y0, learning_rate, rows, starts):
        replicas = self.strategy.num_replicas_in_sync
        steps = tf.size(starts) - 1
        losses = tf.TensorArray(self.cfg.dtype, size=steps)
        for step in tf.range(steps):
            batch = rows[starts[step] : starts[step + 1]]
            global_elements = tf.cast(tf.size(batch) * tf.shape(y0)[1], self.cfg.dtype)

            def share(context, data, batch=batch):
                replica = context.replica_id_in_sync_group
                start, stop = share_bounds(tf.size(batch), replica, replicas)
                return tf.gather(data, batch[start:stop])

            distribute = self.strategy.experimental_distribute_values_from_function
            x_shares = distribute(lambda context: share(context, x0))
            y_shares = distribute(lambda context: share(context, y0))
            per_replica = self.strategy.run(
                self._replica_step, args=(x_shares, y_shares, learning_rate, global_elements)
            )
            losses = losses.write(step, self.strategy.reduce(SUM, per_replica, axis=None))
        return losses.stack()

    def run(self, params: dict, x0: np.ndarray, y0: np.ndarray, cfg: TrainConfig) -> np.ndarray:
        """Train from ``params``; the per-step global losses (the trained weights stay in the
        variables)."""
        for variable, key in zip(self.variables, cfg.param_shapes()):
            variable.assign(params[key])
        self.optimizer.reset()
        rows, starts = packed_batches(step_batches(len(x0), cfg))
        learning_rate = tf.constant(cfg.learning_rate, dtype=cfg.dtype)
        return self.loop(x0, y0, learning_rate, rows, starts).numpy()


_trainers: dict[tuple, DistributedTrainer] = {}


def train(
    params: dict,
    x: object,
    y: object,
    cfg: TrainConfig,
    strategy: tf.distribute.Strategy | None = None,
    scaling: str = "global",
) -> TrainResult:
    """``cfg.steps`` data-parallel updates over ``cfg.replicas`` replicas: by default a
    ``MirroredStrategy`` over that many logical CPUs (``backprop_suite.distribute.devices``); or
    ``strategy``, any strategy with that many replicas in sync (``MultiWorkerMirroredStrategy``
    across processes). ``losses`` are the global losses, the replicas' shares summed."""
    params, x0, y0 = check_inputs(params, x, y, cfg)
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; expected one of {', '.join(SCALINGS)}")
    strategy = strategy_for(cfg.replicas, strategy)
    key = (cfg.cache_key(CALL_ARGUMENTS), id(strategy), scaling)
    if key not in _trainers:
        _trainers[key] = DistributedTrainer(cfg, strategy, scaling)
    trainer = _trainers[key]
    losses = trainer.run(params, x0, y0, cfg)
    trained = {key: v.numpy().copy() for key, v in zip(cfg.param_shapes(), trainer.variables)}
    return TrainResult(params=trained, losses=losses, outputs=trainer.outputs(x0).numpy())
