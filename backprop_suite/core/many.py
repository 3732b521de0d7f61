"""Many nets of one structure at once: their stacked weights and what ``train_many`` returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from backprop_suite.core.config import TrainConfig
from backprop_suite.core.init import init_params
from backprop_suite.core.result import TrainResult
from backprop_suite.core.validation import as_float_array, check_keys


@dataclass(frozen=True)
class ManyResult:
    """K runs: ``params[key]`` is (K, *shape), ``losses`` (K, steps), ``outputs`` (K, samples,
    outputs); ``net(k)`` is net k's run as ``train`` returns it."""

    params: dict[str, np.ndarray]
    losses: np.ndarray
    outputs: np.ndarray

    def __len__(self) -> int:
        return len(self.losses)

    def net(self, k: int) -> TrainResult:
        return TrainResult(
            params={key: value[k] for key, value in self.params.items()},
            losses=self.losses[k],
            outputs=self.outputs[k],
        )


def init_stack(cfg: TrainConfig, seeds: Sequence[int]) -> dict[str, np.ndarray]:
    """``init_params(cfg, seed)`` for each seed, stacked: net k starts from ``seeds[k]``'s
    weights."""
    if len(seeds) == 0:
        raise ValueError("init_stack needs at least one seed")
    nets = [init_params(cfg, seed) for seed in seeds]
    return {key: np.stack([net[key] for net in nets]) for key in cfg.param_shapes()}


def check_stack(params_stack: Mapping[str, object], cfg: TrainConfig) -> dict[str, np.ndarray]:
    """A fresh copy of K stacked weight sets of ``cfg.dtype``: every key of ``cfg``'s weights,
    each (K, *shape) with one K; ValueError naming what does not fit."""
    shapes = check_keys(params_stack, cfg, "params_stack")
    stack = {key: as_float_array(f"weight {key}", params_stack[key], cfg.dtype) for key in shapes}
    counts = set()
    for key, shape in shapes.items():
        if stack[key].shape[1:] != shape or stack[key].ndim != len(shape) + 1:
            raise ValueError(
                f"weight {key} has shape {stack[key].shape}, a stack of layers {cfg.layers} "
                f"needs (K, {', '.join(map(str, shape))})"
            )
        counts.add(stack[key].shape[0])
    if len(counts) > 1:
        raise ValueError(f"the stacked weights hold different numbers of nets: {sorted(counts)}")
    if counts == {0}:
        raise ValueError("params_stack holds no net (K = 0)")
    return stack
