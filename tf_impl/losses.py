"""The three losses in TensorFlow: the port's one table of them, used by the single-net trainer,
the many-nets trainer and the data-parallel one. Each reduces the squared errors over ``axis``
(every axis: one net's loss), as the seed program's ``reduce_sum(square(y0 - y_out))`` does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice

LOSSES: dict[str, Callable[[tf.Tensor, Sequence[int] | None], tf.Tensor]] = {
    "sum_squares": lambda squares, axis: tf.reduce_sum(squares, axis),
    "half_sum_squares": lambda squares, axis: 0.5 * tf.reduce_sum(squares, axis),
    "mean_squares": lambda squares, axis: tf.reduce_mean(squares, axis),
}


def loss_of(
    y0: tf.Tensor, y_out: tf.Tensor, cfg: TrainConfig, axis: Sequence[int] | None = None
) -> tf.Tensor:
    """``cfg.loss`` of the squared errors, reduced over ``axis``; ValueError for a loss the
    table does not hold."""
    return choice("loss", cfg.loss, LOSSES)(tf.square(y0 - y_out), axis)
