"""Train several implementations from the same weights and say where, if anywhere, they part."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from backprop_suite.core.config import TrainConfig
from backprop_suite.core.result import TrainResult
from backprop_suite.verify.registry import DATA_PARALLEL, load_implementation
from backprop_suite.verify.tolerances import BETWEEN_IMPLEMENTATIONS, WIDER, Tolerance, excess


@dataclass
class Comparison:
    """Every implementation's run and its differences from the first one (the reference)."""

    cfg: TrainConfig
    results: dict[str, TrainResult]
    seconds: dict[str, float]
    start_grads: dict[str, dict[str, np.ndarray]]
    tolerance: Tolerance = field(init=False)

    def __post_init__(self) -> None:
        self.tolerance = BETWEEN_IMPLEMENTATIONS[self.cfg.dtype]

    def tolerance_for(self, name: str) -> Tolerance:
        """The bound between ``name`` and the reference: the dtype's, or the wider one either
        of the two needs (``WIDER``)."""
        pairs = [(n, self.cfg.dtype) for n in (name, self.reference)]
        return max([self.tolerance] + [WIDER[p][0] for p in pairs if p in WIDER])

    @property
    def notes(self) -> list[str]:
        """Why a wider bound applies, for each implementation that has one."""
        return [WIDER[(n, self.cfg.dtype)][1] for n in self.names if (n, self.cfg.dtype) in WIDER]

    @property
    def names(self) -> list[str]:
        return list(self.results)

    @property
    def reference(self) -> str:
        return self.names[0]

    def largest_differences(self, name: str) -> dict[str, float]:
        """Largest absolute difference from the reference in params, outputs, losses and the
        gradients at the initial weights."""
        a, b = self.results[name], self.results[self.reference]
        ga, gb = self.start_grads[name], self.start_grads[self.reference]
        return {
            "params": max(float(np.max(np.abs(a.params[k] - b.params[k]))) for k in a.params),
            "outputs": float(np.max(np.abs(a.outputs - b.outputs))),
            "losses": float(np.max(np.abs(a.losses - b.losses))),
            "grads": max(float(np.max(np.abs(ga[k] - gb[k]))) for k in ga),
        }

    def diverged(self) -> dict[str, int]:
        """The implementations whose run went to NaN or inf, with the first such step."""
        return {n: r.diverged_at for n, r in self.results.items() if r.diverged_at is not None}

    def first_parting_step(self, name: str) -> int | None:
        """The first step whose loss differs from the reference's beyond the tolerance."""
        tolerance = self.tolerance_for(name)
        apart = (
            excess(self.results[name].losses, self.results[self.reference].losses, tolerance) > 1
        )
        return int(np.argmax(apart)) if apart.any() else None

    def worst_parameter(self, name: str) -> tuple[str, tuple[int, ...], float, float]:
        """The trained weight that differs most from the reference's relative to the tolerance
        (not always the largest difference: the tolerance grows with the value): its key, index,
        absolute difference and how many times the tolerance that is."""
        a, b = self.results[name].params, self.results[self.reference].params
        worst = ("", (), -1.0)
        for key in a:
            ratio = excess(a[key], b[key], self.tolerance_for(name))
            index = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            if ratio[index] > worst[2]:
                worst = (key, tuple(int(i) for i in index), float(ratio[index]))
        key, index, ratio = worst
        return key, index, float(abs(a[key][index] - b[key][index])), ratio

    def agrees(self, name: str) -> bool:
        """Params, outputs, losses and start gradients all within the tolerance of the
        reference's (``backprop_suite.verify.tolerances``)."""
        a, b = self.results[name], self.results[self.reference]
        ga, gb = self.start_grads[name], self.start_grads[self.reference]
        pairs = [(a.outputs, b.outputs), (a.losses, b.losses)]
        pairs += [(a.params[k], b.params[k]) for k in a.params]
        pairs += [(ga[k], gb[k]) for k in ga]
        tolerance = self.tolerance_for(name)
        return all(np.all(excess(x, y, tolerance) <= 1) for x, y in pairs)

    @property
    def agree(self) -> bool:
        return not self.diverged() and all(self.agrees(n) for n in self.names[1:])


def compare(
    names: list[str],
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    cfg: TrainConfig,
) -> Comparison:
    """Train each named implementation from ``params`` on (x, y) and time it; the first is
    the reference the others are measured against. With ``cfg.replicas`` > 1 only
    ``DATA_PARALLEL`` ones train data-parallel; the others train on one device."""
    results, seconds, grads = {}, {}, {}
    for name in names:
        impl = load_implementation(name)
        run_cfg = cfg if name in DATA_PARALLEL else replace(cfg, replicas=1)
        grads[name] = impl.loss_and_grads(params, x, y, run_cfg)[1]
        start = time.perf_counter()
        results[name] = impl.train(params, x, y, run_cfg)
        measured_elsewhere = results[name].seconds  # a child process's own training time
        seconds[name] = (
            time.perf_counter() - start if measured_elsewhere is None else measured_elsewhere
        )
    return Comparison(cfg=cfg, results=results, seconds=seconds, start_grads=grads)
