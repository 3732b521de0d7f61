"""What a sweep trains: its seeds, its shard of them, and its grid of runs and cells.

A *run* is one ``train_many`` call: every seed's net of one structure, rate, optimizer and init,
trained for the longest number of steps asked for. A *cell* is a run read after one of those
step counts: nothing in training depends on how many steps follow, so the first 500 updates of a
5,000-step run are the 500-step run (``tests/unit/test_sweep.py`` checks it).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from backprop_suite.cli.script import parse_optimizer_args
from backprop_suite.core import TrainConfig
from backprop_suite.core.init import UNIFORM_HIGH, UNIFORM_LOW
from backprop_suite.core.many import init_stack
from backprop_suite.core.memory import require_fits
from backprop_suite.core.optimizers import OPTIMIZERS

SEED_BYTES = sys.getsizeof(10**6) + 8  # a seed in the list: a Python int and its place


def seed_ranges(text: str) -> list[range]:
    """``--seeds`` as ranges, none of them made into a list yet: ``"0:100,500"`` ->
    [range(0, 100), range(500, 501)]."""
    ranges = []
    for part in filter(None, (item.strip() for item in text.split(","))):
        start, colon, stop = part.partition(":")
        try:
            numbers = range(int(start), int(stop)) if colon else range(int(part), int(part) + 1)
        except ValueError:
            raise ValueError(
                f"--seeds takes START:STOP ranges and integers, comma-separated, got {part!r}"
            ) from None
        if not numbers:
            raise ValueError(f"--seeds range {part} is empty (STOP is excluded)")
        ranges.append(numbers)
    if not ranges:
        raise ValueError("--seeds names no seed")
    return ranges


def seed_count(text: str) -> int:
    """How many seeds ``--seeds`` names, counted without listing them."""
    return sum(len(numbers) for numbers in seed_ranges(text))


def parse_seeds(text: str) -> list[int]:
    """``"0:10000"`` (a range, stop excluded), ``"3,7,11"``, or both: ``"0:100,500"``."""
    ranges = seed_ranges(text)
    count = sum(len(numbers) for numbers in ranges)
    require_fits(f"--seeds {text} ({count:,} seeds)", count * SEED_BYTES)
    if min(numbers.start for numbers in ranges) < 0:
        raise ValueError(f"--seeds must be non-negative, got {min(r.start for r in ranges)}")
    seeds = [seed for numbers in ranges for seed in numbers]
    if len(set(seeds)) != len(seeds):
        raise ValueError("--seeds names a seed twice")
    return sorted(seeds)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"``: the second of three shards (counted from 1)."""
    index, slash, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = None
    if not slash or shard is None or not 1 <= shard[0] <= shard[1]:
        raise ValueError(f"--shard takes I/N with 1 <= I <= N, like 2/3, got {text!r}")
    return shard


def shard_seeds(seeds: Sequence[int], shard: tuple[int, int]) -> list[int]:
    """Shard ``i/n`` of the sorted seeds: every n-th, starting at the i-th, so the shards are
    disjoint, cover all seeds, and hold as many nets as each other give or take one."""
    index, count = shard
    shard_list = list(sorted(seeds))[index - 1 :: count]
    if not shard_list:
        raise ValueError(f"--shard {index}/{count} holds no seed of the {len(seeds)} given")
    return shard_list


def parse_init(text: str) -> str:
    """``uniform`` (the seed's [0.1, 0.9]), ``xavier``, or ``LOW:HIGH`` (every weight and bias
    uniform in [LOW, HIGH])."""
    if text in ("uniform", "xavier"):
        return text
    low, colon, high = text.partition(":")
    try:
        bounds = (float(low), float(high)) if colon else None
    except ValueError:
        bounds = None
    if bounds is None or not all(np.isfinite(bounds)) or not bounds[0] < bounds[1]:
        raise ValueError(
            f"--init takes uniform, xavier or LOW:HIGH with LOW < HIGH, like -1:1, got {text!r}"
        )
    return f"{bounds[0]:g}:{bounds[1]:g}"


def init_bounds(init: str) -> tuple[float, float] | None:
    """The uniform range an init draws every weight from, or None for xavier."""
    if init == "xavier":
        return None
    if init == "uniform":
        return UNIFORM_LOW, UNIFORM_HIGH
    low, high = init.split(":")
    return float(low), float(high)


def parse_optimizer(text: str) -> tuple[str, dict[str, object]]:
    """``adam`` or ``momentum:momentum=0.9,use_nesterov=true``: a name and TF1's arguments."""
    name, _, args = text.partition(":")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    return name, parse_optimizer_args(args)


@dataclass(frozen=True)
class Run:
    """One ``train_many`` call: ``cfg`` (its ``steps`` the longest asked for) from ``init``."""

    cfg: TrainConfig
    init: str
    optimizer_label: str
    checkpoints: tuple[int, ...]

    def stack(self, seeds: Sequence[int]) -> dict[str, np.ndarray]:
        """Every seed's initial weights, stacked as ``train_many`` takes them: for a uniform
        range, each seed's weights in one draw of all of them, which is the sequence of draws
        ``backprop_suite.core.init.init_params`` makes weight by weight, at a tenth of its cost."""
        if self.init == "xavier":
            return init_stack(self.cfg, seeds)
        low, high = init_bounds(self.init)
        shapes = self.cfg.param_shapes()
        sizes = [int(np.prod(shape)) for shape in shapes.values()]
        drawn = np.stack(
            [np.random.default_rng(seed).uniform(low, high, sum(sizes)) for seed in seeds]
        )
        ends = np.cumsum(sizes)
        return {
            key: drawn[:, end - size : end].reshape(len(seeds), *shape).astype(self.cfg.dtype)
            for (key, shape), size, end in zip(shapes.items(), sizes, ends)
        }

    def label(self) -> dict[str, object]:
        return {
            "layers": list(self.cfg.layers),
            "learning_rate": self.cfg.learning_rate,
            "optimizer": self.optimizer_label,
            "init": self.init,
        }


@dataclass(frozen=True)
class Grid:
    """Every combination of the options' values; ``base`` holds the rest of the configuration."""

    layers: tuple[tuple[int, ...], ...]
    rates: tuple[float, ...]
    optimizers: tuple[str, ...]
    inits: tuple[str, ...]
    steps: tuple[int, ...]
    base: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        for name in ("layers", "rates", "optimizers", "inits", "steps"):
            values = getattr(self, name)
            if not values:
                raise ValueError(f"the grid's {name} is empty")
            if len(set(values)) != len(values):
                raise ValueError(f"the grid's {name} names a value twice: {list(values)}")
        self.runs()  # every configuration checked before any training

    def require_memory(self, nets: int, seeds: str) -> None:
        """A ``ValueError`` naming ``seeds`` (as ``--seeds`` gave them) if the grid's arrays for
        ``nets`` seeds cannot fit: the largest run's drawn weights (float64), its stacked
        weights and their gradients, and every cell's outputs, final loss, verdict and steps to
        learn for every seed."""
        itemsize = np.dtype(self.base.dtype).itemsize
        runs = self.runs()
        weights = max(sum(map(int, map(np.prod, r.cfg.param_shapes().values()))) for r in runs)
        training = nets * weights * (8 + 2 * itemsize)
        per_cell = nets * (itemsize * (4 * max(r.cfg.layers[-1] for r in runs) + 1) + 1 + 8)
        cells = len(runs) * len(self.steps)
        require_fits(
            f"--seeds {seeds}: the sweep of {nets:,} seeds over {len(runs):,} runs and "
            f"{cells:,} cells",
            training + cells * per_cell,
        )

    def runs(self) -> list[Run]:
        checkpoints = tuple(sorted(self.steps))
        runs = []
        for layers in self.layers:
            for rate in self.rates:
                for optimizer in self.optimizers:
                    name, args = parse_optimizer(optimizer)
                    for init in self.inits:
                        cfg = replace(
                            self.base,
                            layers=layers,
                            learning_rate=rate,
                            optimizer=name,
                            optimizer_args=args,
                            init="xavier" if init == "xavier" else "uniform",
                            steps=checkpoints[-1],
                        )
                        runs.append(Run(cfg, init, optimizer, checkpoints))
        return runs
