"""Keras 3 on PyTorch: ``keras_impl`` run in a child process with ``KERAS_BACKEND=torch``
(``keras_impl.backends``), with the same three functions as every implementation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from common import TrainConfig, TrainResult
from keras_impl import backends

BACKEND = "torch"


def loss_and_grads(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[float, dict[str, np.ndarray]]:
    answer = backends.run(BACKEND, params, x, y, cfg)
    return answer["loss"], answer["grads"]


def train(params: Mapping[str, object], x: object, y: object, cfg: TrainConfig) -> TrainResult:
    return backends.run(BACKEND, params, x, y, cfg)["result"]


def forward(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    return backends.forward(BACKEND, params, x, cfg)
