"""``sweep.py --check``: retrain a sample of a sweep's nets one at a time in every implementation
and hold each against the vectorised run, in numbers and in verdict.

The sample takes the failed nets first, up to half of it, since a plateau is where rounding
differences grow, and fills the rest at random from the others; the draw is fixed (seed 0), so
the same sweep checks the same nets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from backprop_suite.core import xor_data
from backprop_suite.sweep.criteria import Criterion, loss_of
from backprop_suite.sweep.run import Cell
from backprop_suite.verify.registry import IMPLEMENTATIONS, load_implementation
from backprop_suite.verify.rounding import MARGIN, NUDGES, nudged
from backprop_suite.verify.tolerances import BETWEEN_IMPLEMENTATIONS, excess, within
from manual_impl.many import train_many

DEFAULT_NETS = 100
RELATIVE = within(1.0)  # differences as a fraction of 1 + |value|
# How far a retrained net may be from the vectorised run: its dtype's bound for two
# implementations (backprop_suite.verify.tolerances), or, for a net whose training
# amplifies rounding, MARGIN times how far one rounding of its initial weights moves it
# (``sensitivity``, backprop_suite.verify.rounding).


@dataclass
class Retrained:
    """One sampled net: its cell and seed, the vectorised verdict and final loss, and for each
    implementation its verdict, final loss and largest differences from the vectorised run."""

    cell: Cell
    index: int
    bound: float = 0.0
    sensitivity: float = 0.0
    same_as_sweep: bool = True
    verdicts: dict[str, bool] = field(default_factory=dict)
    final_losses: dict[str, float] = field(default_factory=dict)
    output_differences: dict[str, float] = field(default_factory=dict)
    loss_differences: dict[str, float] = field(default_factory=dict)
    within: dict[str, bool] = field(default_factory=dict)
    worst: dict[str, float] = field(default_factory=dict)
    to_sensitivity: dict[str, float] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.cell.seeds[self.index])

    @property
    def verdict_differs(self) -> bool:
        return len(set(self.verdicts.values())) > 1

    def describe(self) -> str:
        label = self.cell.label()
        where = (
            f"{'-'.join(map(str, label['layers']))} rate {label['learning_rate']:g} "
            f"{label['optimizer']} {label['init']} {label['steps']} steps, seed {self.seed}"
        )
        each = ", ".join(
            f"{name} {'learned' if self.verdicts[name] else 'failed'} (loss {loss:.6g})"
            for name, loss in self.final_losses.items()
        )
        return f"{where}: {each}"


def sample(cells: Sequence[Cell], count: int) -> list[tuple[Cell, int]]:
    """``count`` (cell, net) pairs, or every net if there are fewer: failed nets first, up to
    half, then the others at random."""
    rng = np.random.default_rng(0)
    failed = [(cell, k) for cell in cells for k in np.flatnonzero(~cell.solved)]
    learned = [(cell, k) for cell in cells for k in np.flatnonzero(cell.solved)]
    take_failed = min(len(failed), max(count // 2, count - len(learned)))
    take_learned = min(len(learned), count - take_failed)
    chosen = [failed[i] for i in sorted(rng.choice(len(failed), take_failed, replace=False))]
    chosen += [learned[i] for i in sorted(rng.choice(len(learned), take_learned, replace=False))]
    return chosen


@dataclass(frozen=True)
class Reference:
    """A sampled net's vectorised run, repeated for the check: its outputs and per-step losses,
    whether its outputs are the sweep's bit for bit, and its sensitivity: the largest difference
    (relative to 1 + |value|) in losses and outputs between this run and ``NUDGES`` runs from
    its initial weights each moved by one rounding, how much its training amplifies a rounding."""

    outputs: np.ndarray
    losses: np.ndarray
    same_as_sweep: bool
    sensitivity: float


def rerun(cell: Cell, indices: Sequence[int]) -> list[Reference]:
    """The ``Reference`` of each of ``cell``'s nets at ``indices``, trained together."""
    x0, y0 = xor_data()
    cfg = replace(cell.run.cfg, steps=cell.steps)
    stack = cell.run.stack([int(cell.seeds[k]) for k in indices])
    base = train_many(stack, x0, y0, cfg)
    rng = np.random.default_rng(0)
    spread = np.zeros(len(indices))
    for _ in range(NUDGES):
        moved = train_many(nudged(stack, rng), x0, y0, cfg)
        pairs = ((moved.losses, base.losses, 1), (moved.outputs, base.outputs, (1, 2)))
        for ours, theirs, axes in pairs:
            gap = excess(ours, theirs, RELATIVE)
            spread = np.maximum(spread, gap.max(axis=axes))
    return [
        Reference(
            outputs=base.outputs[j],
            losses=base.losses[j],
            same_as_sweep=bool(np.array_equal(base.outputs[j], cell.outputs[k], equal_nan=True)),
            sensitivity=float(spread[j]),
        )
        for j, k in enumerate(indices)
    ]


def references(pairs: Sequence[tuple[Cell, int]]) -> list[Reference]:
    """``rerun`` for every sampled net, cell by cell, in the order of ``pairs``."""
    found: dict[tuple[int, int], Reference] = {}
    for cell in {id(cell): cell for cell, _ in pairs}.values():
        indices = [k for c, k in pairs if c is cell]
        for k, reference in zip(indices, rerun(cell, indices)):
            found[id(cell), k] = reference
    return [found[id(cell), k] for cell, k in pairs]


def retrain(
    pairs: Sequence[tuple[Cell, int]],
    criterion: Criterion,
    names: Sequence[str] = tuple(IMPLEMENTATIONS),
    advance: Callable[[int], None] = lambda nets: None,
) -> list[Retrained]:
    """Train every sampled net by itself in each of ``names`` from its own initial weights, and
    hold it to the net's vectorised run."""
    x0, y0 = xor_data()
    implementations = {name: load_implementation(name) for name in names}
    found = []
    for (cell, index), reference in zip(pairs, references(pairs)):
        cfg = replace(cell.run.cfg, steps=cell.steps)
        spread = reference.sensitivity
        tolerance = max(BETWEEN_IMPLEMENTATIONS[cfg.dtype].rtol, MARGIN * spread)
        stack = cell.run.stack([int(cell.seeds[index])])
        params = {key: value[0] for key, value in stack.items()}
        net = Retrained(cell, index, tolerance, spread, reference.same_as_sweep)
        net.verdicts["vectorised"] = bool(cell.solved[index])
        net.final_losses["vectorised"] = float(cell.final_loss[index])
        for name, implementation in implementations.items():
            result = implementation.train(params, x0, y0.astype(cfg.dtype), cfg)
            outputs = result.outputs[None].astype(cfg.dtype)
            net.verdicts[name] = bool(criterion.learned(outputs, y0, cfg)[0])
            net.final_losses[name] = float(loss_of(cfg, y0.astype(cfg.dtype), outputs)[0])
            net.output_differences[name] = float(np.max(np.abs(result.outputs - reference.outputs)))
            net.loss_differences[name] = float(np.max(np.abs(result.losses - reference.losses)))
            gap = max(
                np.max(excess(result.outputs, reference.outputs, RELATIVE)),
                np.max(excess(result.losses, reference.losses, RELATIVE)),
            )
            net.worst[name] = float(gap / tolerance)
            net.within[name] = net.worst[name] <= 1
            net.to_sensitivity[name] = float(gap / spread) if spread > 0 else math.inf
            advance(1)
        found.append(net)
    return found


@dataclass(frozen=True)
class CheckReport:
    nets: list[Retrained]
    names: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.differing_verdicts and not self.outside and not self.rerun_differs

    @property
    def rerun_differs(self) -> list[Retrained]:
        return [net for net in self.nets if not net.same_as_sweep]

    @property
    def differing_verdicts(self) -> list[Retrained]:
        return [net for net in self.nets if net.verdict_differs]

    @property
    def outside(self) -> list[tuple[Retrained, str]]:
        return [(net, name) for net in self.nets for name in self.names if not net.within[name]]

    def text(self) -> str:
        dtype = self.nets[0].cell.run.cfg.dtype
        failed = sum(not net.verdicts["vectorised"] for net in self.nets)
        bound = BETWEEN_IMPLEMENTATIONS[dtype]
        amplified = sum(net.bound > bound.rtol for net in self.nets)
        roundings = [net.sensitivity / float(np.finfo(dtype).eps) for net in self.nets]
        lines = [
            f"check: {len(self.nets)} nets ({failed} of them failed in the sweep) retrained one "
            f"at a time in {', '.join(self.names)}, against the vectorised NumPy run",
            f"bound: {bound.describe()} for {dtype}, or {MARGIN} x how far "
            f"one rounding of the initial weights moves the net, if larger ({amplified} nets)",
            f"sensitivity: one rounding of the initial weights moves a net by up to "
            f"{max(roundings):,.0f} roundings (median {np.median(roundings):,.0f})",
            f"{'impl':<8}{'largest |diff| outputs':>24}{'per-step losses':>17}"
            f"{'diff/sensitivity':>18}{'diff/bound':>12}{'outside':>9}{'verdicts differ':>17}",
        ]
        for name in self.names:
            outputs = max(net.output_differences[name] for net in self.nets)
            losses = max(net.loss_differences[name] for net in self.nets)
            worst = max(net.worst[name] for net in self.nets)
            ratio = max(net.to_sensitivity[name] for net in self.nets)
            outside = sum(not net.within[name] for net in self.nets)
            differ = sum(net.verdicts[name] != net.verdicts["vectorised"] for net in self.nets)
            lines.append(
                f"{name:<8}{outputs:>24.1e}{losses:>17.1e}{ratio:>18.3g}{worst:>12.2g}"
                f"{outside:>9}{differ:>17}"
            )
        rerun = len(self.nets) - len(self.rerun_differs)
        lines.append(
            f"the sampled nets trained again together: outputs the sweep's bit for bit in "
            f"{rerun} of {len(self.nets)}"
        )
        for net in self.differing_verdicts:
            lines.append(f"verdicts differ: {net.describe()}")
        for net, name in self.outside:
            lines.append(
                f"outside the bound: {name}, {net.describe()}; outputs "
                f"{net.output_differences[name]:.2e}, losses {net.loss_differences[name]:.2e}, "
                f"bound {net.bound:.1e}"
            )
        verdict = "agree" if self.passed else "DISAGREE"
        lines.append(
            f"check: {verdict}: every implementation "
            + (
                "within the bound of the vectorised run, the same failed seeds in each"
                if self.passed
                else "should be within the bound and give the same verdicts; see above"
            )
        )
        return "\n".join(lines)
