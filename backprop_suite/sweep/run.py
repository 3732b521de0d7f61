"""Train a grid's runs with the vectorised NumPy ``train_many`` and read each cell off them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backprop_suite.core import xor_data
from backprop_suite.sweep.criteria import Criterion, loss_of
from backprop_suite.sweep.grid import Grid, Run
from manual_impl.many import train_many

NOT_SOLVED = -1


@dataclass(frozen=True)
class Cell:
    """One run read after ``steps`` updates, for every seed: the outputs (K, samples, outputs)
    and the loss on all rows after ``steps`` updates, whether the criterion holds then, and the
    first update count at which it held (``NOT_SOLVED`` if it did not by ``steps``)."""

    run: Run
    steps: int
    seeds: np.ndarray
    outputs: np.ndarray
    final_loss: np.ndarray
    solved: np.ndarray
    solved_at: np.ndarray

    def label(self) -> dict[str, object]:
        return {**self.run.label(), "steps": self.steps}


class Watcher:
    """``train_many``'s watch: the first update count at which each net met the criterion, and
    the outputs at every checkpoint."""

    def __init__(self, run: Run, criterion: Criterion, y0: np.ndarray, advance: Callable) -> None:
        self.run, self.criterion, self.y0, self.advance = run, criterion, y0, advance
        self.solved_at: np.ndarray | None = None
        self.outputs: dict[int, np.ndarray] = {}

    def __call__(self, updates: int, y_out: np.ndarray) -> None:
        if self.solved_at is None:
            self.solved_at = np.full(len(y_out), NOT_SOLVED)
        learned = self.criterion.learned(y_out, self.y0, self.run.cfg)
        self.solved_at[learned & (self.solved_at == NOT_SOLVED)] = updates
        if updates in self.run.checkpoints:
            self.outputs[updates] = y_out.copy()
        if updates:
            self.advance(len(y_out))


def train_run(
    run: Run,
    seeds: Sequence[int],
    criterion: Criterion,
    advance: Callable[[int], None],
    stack: dict[str, np.ndarray] | None = None,
) -> list[Cell]:
    """Train ``run`` from every seed at once (from ``stack``, the seeds' initial weights, when
    given); one ``Cell`` per checkpoint. ``advance(nets)`` is called after every update (for a
    progress bar)."""
    x0, y0 = xor_data()
    y0 = y0.astype(run.cfg.dtype)
    watcher = Watcher(run, criterion, y0, advance)
    stack = run.stack(seeds) if stack is None else stack
    train_many(stack, x0, y0, run.cfg, watch=watcher, record_losses=False)
    cells = []
    for steps in run.checkpoints:
        outputs = watcher.outputs[steps]
        solved_at = np.where(watcher.solved_at <= steps, watcher.solved_at, NOT_SOLVED)
        cells.append(
            Cell(
                run=run,
                steps=steps,
                seeds=np.asarray(seeds),
                outputs=outputs,
                final_loss=loss_of(run.cfg, y0, outputs),
                solved=criterion.learned(outputs, y0, run.cfg),
                solved_at=solved_at,
            )
        )
    return cells


def train_grid(
    grid: Grid,
    seeds: Sequence[int],
    criterion: Criterion,
    advance: Callable[[int], None] = lambda nets: None,
) -> list[Cell]:
    """Every cell of ``grid`` for ``seeds``, run by run in the grid's order; runs of one
    structure and init start from the same weights, drawn once."""
    stacks: dict[tuple, dict[str, np.ndarray]] = {}
    cells = []
    for run in grid.runs():
        key = (run.cfg.layers, run.init, run.cfg.dtype)
        if key not in stacks:
            stacks[key] = run.stack(seeds)
        cells.extend(train_run(run, seeds, criterion, advance, stacks[key]))
    return cells


def net_steps(grid: Grid, seeds: Sequence[int]) -> int:
    """How many net-steps ``train_grid`` trains: for a progress bar's total."""
    return sum(run.cfg.steps for run in grid.runs()) * len(seeds)
