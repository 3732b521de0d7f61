"""The figures ``sweep.py --plot DIR`` writes: the fraction learned over width x rate, and each
cell's histogram of final losses."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from backprop_suite.core.outputs import save_png  # noqa: E402
from backprop_suite.sweep.text import describe  # noqa: E402

MOST_PANELS = 36
LOSS_BINS = np.logspace(-5, 1, 61)


def layers_text(record: dict) -> str:
    return "-".join(map(str, record["layers"]))


def heatmap(document: dict, path: Path) -> Path:
    """One panel per optimizer, init and step count: the fraction of nets that learned XOR for
    every width (rows) and rate (columns)."""
    records = document["cells"]
    panels: dict[tuple, list[dict]] = {}
    for record in records:
        panels.setdefault((record["optimizer"], record["init"], record["steps"]), []).append(record)
    shown = list(panels.items())[:MOST_PANELS]
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.2 * columns + 1.2, 3.4 * rows + 0.8),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[len(shown) :]:
        ax.axis("off")
    for ax, ((optimizer, init, steps), cells) in zip(axes.flat, shown):
        widths = list(dict.fromkeys(layers_text(cell) for cell in cells))
        rates = sorted({cell["learning_rate"] for cell in cells})
        grid = np.full((len(widths), len(rates)), np.nan)
        for cell in cells:
            grid[widths.index(layers_text(cell)), rates.index(cell["learning_rate"])] = cell[
                "solved_fraction"
            ]
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (row, column), value in np.ndenumerate(grid):
            if not np.isnan(value):
                colour = "black" if value > 0.6 else "white"
                ax.text(column, row, f"{value:.1%}", ha="center", va="center", color=colour)
        ax.set_xticks(range(len(rates)), [f"{rate:g}" for rate in rates])
        ax.set_yticks(range(len(widths)), widths)
        ax.set_xlabel("learning rate")
        if ax in axes[:, 0]:
            ax.set_ylabel("layers")
        ax.set_title(f"{optimizer}, init {init}, {steps} steps", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="fraction that learned XOR")
    fig.suptitle(f"{describe(document['sweep'])}\n{records[0]['nets']} seeds per cell", fontsize=9)
    return save_png(fig, path)


def loss_histograms(document: dict, path: Path) -> Path:
    """Every cell's final losses on a log scale; failed nets (red) sit at the plateau near 0.5,
    where two outputs are stuck at 0.5, or higher."""
    records = document["cells"][:MOST_PANELS]
    columns = min(3, len(records))
    rows = math.ceil(len(records) / columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.5 * columns, 2.8 * rows + 0.6),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    for ax in axes.flat[len(records) :]:
        ax.axis("off")
    for ax, record in zip(axes.flat, records):
        # a diverged net (null) is counted in the last bin
        losses = [LOSS_BINS[-1] if v is None else v for v in record["per_seed"]["final_loss"]]
        losses = np.clip(losses, LOSS_BINS[0], LOSS_BINS[-1])
        solved = np.asarray(record["per_seed"]["solved"], dtype=bool)
        ax.hist(
            [losses[solved], losses[~solved]],
            bins=LOSS_BINS,
            stacked=True,
            color=["tab:blue", "tab:red"],
            label=["learned", "failed"],
        )
        ax.axvline(0.5, color="0.3", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(
            f"{layers_text(record)}, rate {record['learning_rate']:g}, {record['optimizer']}, "
            f"{record['init']}, {record['steps']} steps: {record['solved_fraction']:.1%}",
            fontsize=8,
        )
    axes.flat[0].legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("final loss (dashed: 0.5)")
    fig.suptitle(describe(document["sweep"]), fontsize=9)
    return save_png(fig, path)


def write_figures(document: dict, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        heatmap(document, folder / "learned.png"),
        loss_histograms(document, folder / "final_losses.png"),
    ]
