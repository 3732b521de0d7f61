"""Keras losses that reproduce the config's loss exactly, reduction included."""

from __future__ import annotations

import keras
from keras import ops

from common import TrainConfig


class SumOfSquares(keras.losses.Loss):
    """Per sample ``scale * Σ_outputs (y_true - y_pred)²``; with ``reduction="sum"`` it is the
    seed's ``reduce_sum(square(y0 - y_out))`` (scale 1) or the article's ½ Σ (scale 0.5).

    ``MeanSquaredError(reduction="sum")`` equals it for one output only: it averages over outputs.
    """

    def __init__(self, scale: float = 1.0, **kwargs) -> None:
        super().__init__(reduction="sum", **kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * ops.sum(ops.square(y_true - y_pred), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def keras_loss(cfg: TrainConfig) -> keras.losses.Loss:
    """The Keras loss for ``cfg.loss``, computing in ``cfg.dtype``.

    Keras's default ``"mse"`` averages over the batch: with ``SGD(1.0)`` that is gradient descent
    on the sum at a quarter of the rate for the four XOR rows.
    """
    if cfg.loss == "sum_squares":
        return SumOfSquares(1.0, name="sum_squares", dtype=cfg.dtype)
    if cfg.loss == "half_sum_squares":
        return SumOfSquares(0.5, name="half_sum_squares", dtype=cfg.dtype)
    return keras.losses.MeanSquaredError(dtype=cfg.dtype)
