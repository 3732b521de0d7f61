"""The training configuration. Its defaults are the seed program."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np

from backprop_suite.core.memory import require_fits
from backprop_suite.core.optimizers import OptimizerArgs, check_decay, optimizer_args

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("sum_squares", "half_sum_squares", "mean_squares")
INITS = ("uniform", "xavier")
DTYPES = ("float32", "float64")
T = TypeVar("T")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def choice(kind: str, name: object, choices: Iterable[str] | Mapping[str, T]) -> T | str:
    """``choices[name]`` from a table (the name itself from a tuple), or a ValueError naming the
    ``kind`` and every name there is: every table of names in the suite is read through this."""
    if name not in choices:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(choices)}")
    return choices[name] if isinstance(choices, Mapping) else name


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. ``TrainConfig()`` is the seed program: a 2-3-1 sigmoid net,
    sum of squared errors, gradient descent at rate 1.0, 500 full-batch steps.

    ``optimizer`` and ``optimizer_args`` name one of TF1's ``tf.compat.v1.train`` optimizers and its
    constructor's arguments (``backprop_suite.core.optimizers``; omitted ones take TF1's defaults,
    and ``optimizer_args`` holds them all after construction). ``decay_steps``, ``decay_rate`` and
    ``staircase`` are TF1's ``exponential_decay`` of the rate (no decay by default).

    ``replicas`` > 1 trains data-parallel through ``tf.distribute`` (``tf`` and ``keras`` only):
    every step's batch is split among the replicas and their gradients summed, which is the same
    update as one device makes, up to the order of the sum."""

    layers: tuple[int, ...] = (2, 3, 1)
    activation: str = "sigmoid"
    loss: str = "sum_squares"
    learning_rate: float = 1.0
    steps: int = 500
    batch_size: int | None = None
    shuffle: bool = False
    init: str = "uniform"
    seed: int = 0
    dtype: str = "float32"
    optimizer: str = "sgd"
    optimizer_args: Mapping[str, object] | None = None
    decay_steps: int | None = None
    decay_rate: float | None = None
    staircase: bool = False
    replicas: int = 1

    def __post_init__(self) -> None:
        try:
            layers = tuple(self.layers)
        except TypeError:
            raise ValueError(f"layers must be a sequence of widths, got {self.layers!r}") from None
        object.__setattr__(self, "layers", layers)
        if len(layers) < 2:
            raise ValueError(f"layers needs at least two widths (input and output), got {layers}")
        if not all(_is_int(width) and width > 0 for width in layers):
            raise ValueError(f"layers must be positive integers, got {layers}")
        choice("activation", self.activation, ACTIVATIONS)
        choice("loss", self.loss, LOSSES)
        choice("init", self.init, INITS)
        choice("dtype", self.dtype, DTYPES)
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise ValueError(f"learning_rate must be a number, got {rate!r}")
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"learning_rate must be positive and finite, got {rate}")
        with np.errstate(over="ignore"):
            rate_in_dtype = float(np.asarray(rate, dtype=self.dtype))
        if not 0 < rate_in_dtype < math.inf:
            raise ValueError(f"learning_rate {rate} is not a positive finite {self.dtype}")
        object.__setattr__(self, "learning_rate", float(rate))
        if not _is_int(self.steps) or self.steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if self.batch_size is not None and (not _is_int(self.batch_size) or self.batch_size <= 0):
            raise ValueError(
                f"batch_size must be None or a positive integer, got {self.batch_size!r}"
            )
        if not isinstance(self.shuffle, bool):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.optimizer_args, OptimizerArgs):
            args = optimizer_args(self.optimizer, self.optimizer_args)
            object.__setattr__(self, "optimizer_args", args)
        if not _is_int(self.replicas) or self.replicas < 1:
            raise ValueError(f"replicas must be a positive integer, got {self.replicas!r}")
        check_decay(self.decay_steps, self.decay_rate, self.staircase)
        if self.decay_rate is not None:
            object.__setattr__(self, "decay_rate", float(self.decay_rate))
        self._require_memory()

    def _require_memory(self) -> None:
        """Widths and step counts whose arrays cannot fit are refused here, before any work: the
        weights (given and trained), and the loss of every step, which every ``train`` keeps
        (``batching.require_schedule_fits`` checks the rows of every step's batch, which depend
        on the data)."""
        itemsize = np.dtype(self.dtype).itemsize
        weights = sum(math.prod(shape) for shape in self.param_shapes().values())
        require_fits(f"layers {','.join(map(str, self.layers))}", 2 * weights * itemsize)
        require_fits(f"steps {self.steps} (one loss per step)", self.steps * itemsize)

    @property
    def plain_gradient_descent(self) -> bool:
        """The seed's update: ``sgd`` at a constant rate."""
        return self.optimizer == "sgd" and self.decay_steps is None

    def cache_key(self, per_call: Iterable[str] = ()) -> tuple:
        """Every field but those ``per_call`` (what a compiled trainer takes as arguments), as
        (name, value) pairs: the key a compiled trainer or model is cached under, so that a field
        added later keeps trainers for different values apart without a word here."""
        skipped = set(per_call)
        unknown = skipped - {field.name for field in fields(self)}
        if unknown:
            raise ValueError(f"TrainConfig has no field {sorted(unknown)[0]!r}")
        return tuple(
            (field.name, getattr(self, field.name))
            for field in fields(self)
            if field.name not in skipped
        )

    def to_json(self) -> dict:
        """The fields as JSON values."""
        return {
            **vars(self),
            "layers": list(self.layers),
            "optimizer_args": dict(self.optimizer_args),
        }

    @property
    def depth(self) -> int:
        """How many weight layers: ``m1, b1`` … ``m{depth}, b{depth}``."""
        return len(self.layers) - 1

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """The weight dict's keys and shapes, in the seed's order m1, b1, m2, b2, …"""
        shapes: dict[str, tuple[int, ...]] = {}
        for layer, (fan_in, fan_out) in enumerate(zip(self.layers, self.layers[1:]), start=1):
            shapes[f"m{layer}"] = (fan_in, fan_out)
            shapes[f"b{layer}"] = (fan_out,)
        return shapes
