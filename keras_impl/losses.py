"""A Keras loss that reproduces the config's loss exactly, reduction included."""

from __future__ import annotations

import keras
from keras import ops

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice
from keras_impl.distributed import global_sum, in_replicas
from keras_impl.exact_ops import mean


def mean_squares(squares):
    if in_replicas():  # this replica's share of the global batch's mean
        return ops.sum(squares) / global_sum(ops.cast(ops.size(squares), squares.dtype))
    return mean(squares)


# Keras's one table of the losses, each of the squared errors of the batch
LOSSES = {
    "sum_squares": ops.sum,
    "half_sum_squares": lambda squares: 0.5 * ops.sum(squares),
    "mean_squares": mean_squares,
}


class SquaredError(keras.losses.Loss):
    """The config's loss over the whole batch, in the seed's own order of operations:
    ``sum_squares`` is ``reduce_sum(square(y0 - y_out))``, ``half_sum_squares`` half of it,
    ``mean_squares`` ``reduce_mean(square(y0 - y_out))``.

    ``call`` returns the batch total and the ``"sum"`` reduction leaves it as it is. Keras's own
    ``MeanSquaredError(reduction="sum")`` is the same loss for one output, and its default ``"mse"``
    is ``mean_squares``, but both first average over the outputs of each sample and then reduce
    over samples: for several outputs that order rounds differently in the last bits.

    Under ``tf.distribute`` a replica's ``mean_squares`` is its rows' sum over the global batch's
    element count (``keras_impl.distributed``): Keras scales only its own mean reductions.
    """

    def __init__(self, kind: str, **kwargs) -> None:
        super().__init__(name=kind, reduction="sum", **kwargs)
        choice("loss", kind, LOSSES)
        self.kind = kind

    def call(self, y_true, y_pred):
        return LOSSES[self.kind](ops.square(y_true - y_pred))

    def get_config(self) -> dict:
        return {**super().get_config(), "kind": self.kind}


def keras_loss(cfg: TrainConfig) -> keras.losses.Loss:
    """The Keras loss for ``cfg.loss``, computing in ``cfg.dtype``.

    Keras's default ``"mse"`` averages over the batch: with ``SGD(1.0)`` that is gradient descent
    on the sum at a quarter of the rate for the four XOR rows.
    """
    return SquaredError(cfg.loss, dtype=cfg.dtype)
