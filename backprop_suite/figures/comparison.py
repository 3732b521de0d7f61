"""The figures ``compare.py --plot DIR`` writes: loss curves, decision surfaces, hidden units,
update schedules and optimizers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import manual_impl  # noqa: E402
from backprop_suite.core import TrainConfig, step_batches  # noqa: E402
from backprop_suite.core.optimizers import OPTIMIZERS  # noqa: E402
from backprop_suite.core.outputs import save_png  # noqa: E402
from backprop_suite.verify.comparison import Comparison  # noqa: E402
from backprop_suite.verify.registry import load_implementation  # noqa: E402

SURFACE_RANGE = (-0.5, 1.5)
SHOWN_SAMPLES = 8


def finish(fig: plt.Figure, caption: str, path: Path) -> Path:
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=8, color="0.3")
    return save_png(fig, path)


def loss_curves(comparison: Comparison, caption: str, path: Path) -> Path:
    """Every implementation's per-step loss on a log scale, and below, each one's distance from
    the reference's loss at every step."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    reference = comparison.results[comparison.reference].losses
    steps = np.arange(1, len(reference) + 1)
    styles = ["-", "--", ":", "-."]
    for index, (name, result) in enumerate(comparison.results.items()):
        top.plot(steps, result.losses, styles[index % 4], lw=2 - 0.3 * index, label=name)
    top.set_yscale("log")
    top.set_ylabel(f"loss ({comparison.cfg.loss})")
    top.set_title("Loss at every step, before its update")
    top.legend()
    top.grid(alpha=0.3)
    identical = []
    for index, name in enumerate(comparison.names[1:], start=1):
        gap = np.abs(comparison.results[name].losses - reference)
        if not np.any(gap > 0):
            identical.append(name)
            continue
        bottom.plot(steps, np.where(gap > 0, gap, np.nan), styles[index % 4], label=name)
    bottom.axhline(comparison.tolerance.rtol, color="0.5", lw=1, ls="--", label="tolerance")
    bottom.set_yscale("log")
    bottom.set_xlabel("step")
    bottom.set_ylabel(f"|loss - {comparison.reference} loss|")
    if identical:
        bottom.text(
            0.01,
            0.95,
            f"identical to {comparison.reference} at every step, bit for bit: "
            + ", ".join(identical),
            transform=bottom.transAxes,
            va="top",
            fontsize=9,
        )
    bottom.legend(loc="upper right", fontsize=8)
    bottom.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return finish(fig, caption, path)


def decision_surfaces(
    comparison: Comparison, x: np.ndarray, y: np.ndarray, caption: str, path: Path
) -> Path:
    """Each trained net's first output over [-0.5, 1.5]², with the training points on top."""
    cfg = comparison.cfg
    axis = np.linspace(*SURFACE_RANGE, 161)
    grid_x0, grid_x1 = np.meshgrid(axis, axis)
    grid = np.column_stack([grid_x0.ravel(), grid_x1.ravel()])
    names = comparison.names
    fig, axes = plt.subplots(
        1, len(names), figsize=(3.2 * len(names) + 1.2, 4.4), squeeze=False, layout="constrained"
    )
    high = y[:, 0] > 0.5
    for ax, name in zip(axes[0], names):
        params = comparison.results[name].params
        surface = load_implementation(name).forward(params, grid, cfg)[:, 0]
        surface = surface.reshape(grid_x0.shape)
        filled = ax.contourf(grid_x0, grid_x1, surface, levels=20, cmap="RdBu_r")
        ax.contour(grid_x0, grid_x1, surface, levels=[0.5], colors="k", linewidths=1)
        ax.scatter(*x[high].T, marker="o", c="w", edgecolors="k", s=80, label="target 1")
        ax.scatter(*x[~high].T, marker="s", c="k", edgecolors="w", s=70, label="target 0")
        ax.set_title(name)
        ax.set_xlabel("x[0]")
        ax.set_aspect("equal")
    axes[0][0].set_ylabel("x[1]")
    axes[0][0].legend(loc="lower left", fontsize=8, framealpha=0.8)
    fig.colorbar(filled, ax=axes[0].tolist(), label="y_out[0] (black line: 0.5)", shrink=0.8)
    fig.suptitle("Decision surface of each trained net, with the training points")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
    return finish(fig, caption, path)


def hidden_activations(comparison: Comparison, x: np.ndarray, caption: str, path: Path) -> Path:
    """Every hidden unit's output for the first training inputs, in the reference's trained net
    (the NumPy forward pass: the same arithmetic as every implementation's)."""
    cfg = comparison.cfg
    params = comparison.results[comparison.reference].params
    shown = x[:SHOWN_SAMPLES]
    hidden = manual_impl.layer_outputs(params, shown.astype(cfg.dtype), cfg)[1:-1]
    width = 2.2 + 1.1 * sum(h.shape[1] for h in hidden) + 1.5 * len(hidden)
    fig, axes = plt.subplots(1, len(hidden), figsize=(width, 4), squeeze=False)
    labels = [", ".join(f"{v:.3g}" for v in row) for row in shown]
    for layer, (ax, h) in enumerate(zip(axes[0], hidden), start=1):
        low, high = float(h.min()), float(h.max())
        image = ax.imshow(h, cmap="viridis", aspect="auto", vmin=low, vmax=high)
        middle = (low + high) / 2
        for (row, unit), value in np.ndenumerate(h):
            color = "w" if value < middle else "k"
            ax.text(unit, row, f"{value:.2f}", ha="center", va="center", fontsize=9, color=color)
        ax.set_xticks(range(h.shape[1]), [f"h{layer}[{u}]" for u in range(h.shape[1])])
        ax.set_yticks(range(len(labels)), labels if layer == 1 else [""] * len(labels))
        ax.set_title(f"hidden layer {layer}")
        fig.colorbar(image, ax=ax, fraction=0.08)
    axes[0][0].set_ylabel("input x")
    fig.suptitle(f"Hidden units after training ({comparison.reference})")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return finish(fig, caption, path)


SCHEDULE_STEP_BUDGET = 20_000


def schedules(
    comparison: Comparison, initial: dict, x: np.ndarray, y: np.ndarray, path: Path
) -> Path:
    """The article's three ways to update, from the same weights, by the reference
    implementation: after every sample, after the full batch, after shuffled mini-batches.
    Each point is an epoch's loss per sample, averaged over the batches the epoch held."""
    cfg, n = comparison.cfg, len(x)
    impl = load_implementation(comparison.reference)
    epochs = min(cfg.steps, max(1, SCHEDULE_STEP_BUDGET // n))
    mini = (
        cfg.batch_size if cfg.batch_size is not None and 1 < cfg.batch_size < n else max(1, n // 2)
    )
    runs = {
        "after every sample (batch_size=1)": (1, False),
        f"after shuffled mini-batches of {mini}": (mini, True),
        "after the full batch (the seed)": (None, False),
    }
    per_row_scale = cfg.layers[-1] if cfg.loss == "mean_squares" else 1
    fig, ax = plt.subplots(figsize=(8, 5))
    for label, (batch_size, shuffle) in runs.items():
        per_epoch = 1 if batch_size is None else -(-n // batch_size)
        run_cfg = TrainConfig(
            **{
                **vars(cfg),
                "batch_size": batch_size,
                "shuffle": shuffle,
                "steps": epochs * per_epoch,
            }
        )
        losses = impl.train(initial, x, y, run_cfg).losses.astype(float)
        rows = np.array([len(b) for b in step_batches(n, run_cfg)])
        totals = losses * (rows if cfg.loss == "mean_squares" else 1) * per_row_scale
        epoch_loss = totals.reshape(epochs, per_epoch).sum(axis=1) / n
        ax.plot(np.arange(1, epochs + 1), epoch_loss, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch (every sample seen once)")
    ax.set_ylabel(f"{cfg.loss} per sample, mean over the epoch")
    ax.set_title(
        f"How often are the weights updated? ({comparison.reference}, rate {cfg.learning_rate:g})"
    )
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    caption = (
        f"{'-'.join(map(str, cfg.layers))} {cfg.activation}, {n} samples, {epochs} epochs "
        f"from the same {cfg.init} weights (seed {cfg.seed}), {cfg.dtype}"
    )
    return finish(fig, caption, path)


OPTIMIZER_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
OPTIMIZER_STEP_BUDGET = 20_000


def optimizer_settings(cfg: TrainConfig) -> dict[str, dict]:
    """Each of TF1's optimizers with the config's arguments where it names that optimizer,
    TF1's defaults otherwise (momentum, which has none, 0.9)."""
    settings = {name: {} for name in OPTIMIZERS}
    settings["momentum"] = {"momentum": 0.9}
    settings[cfg.optimizer] = dict(cfg.optimizer_args)
    return settings


def best_run(initial: dict, x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> tuple:
    """(rate, losses) for the rate of OPTIMIZER_RATES whose run ends at the lowest loss."""
    runs = []
    for rate in OPTIMIZER_RATES:
        with np.errstate(all="ignore"):
            losses = manual_impl.train(initial, x, y, replace(cfg, learning_rate=rate)).losses
        if np.all(np.isfinite(losses)):
            runs.append((float(losses[-1]), rate, losses))
    if not runs:
        return None, None
    _, rate, losses = min(runs, key=lambda run: run[0])
    return rate, losses


def optimizers(comparison: Comparison, initial: dict, x: np.ndarray, y: np.ndarray, path: Path):
    """Which optimizer trains the net fastest: each of TF1's optimizers from the same weights,
    each at the rate of OPTIMIZER_RATES that ends lowest, the config's decay and batches kept.
    Trained by the NumPy implementation, which follows TF1's graph to 1e-12 in float64
    (tests/agreement/test_optimizers.py), so the figure needs no framework."""
    cfg, n = comparison.cfg, len(x)
    steps = min(cfg.steps, max(1, OPTIMIZER_STEP_BUDGET // n))
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, args in optimizer_settings(cfg).items():
        run_cfg = replace(cfg, optimizer=name, optimizer_args=args, steps=steps)
        rate, losses = best_run(initial, x, y, run_cfg)
        if rate is None:
            ax.plot([], [], label=f"{name}: diverged at every rate")
            continue
        shown = f"({', '.join(f'{k}={v}' for k, v in args.items())})" if args else ""
        label = f"{name}{shown} at rate {rate:g}: loss {losses[-1]:.2g}"
        ax.plot(np.arange(steps), losses, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{cfg.loss} (before the step)")
    ax.set_title("Which of TF1's optimizers trains fastest? (NumPy, each at its best rate)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    rates = ", ".join(f"{r:g}" for r in OPTIMIZER_RATES)
    caption = (
        f"{'-'.join(map(str, cfg.layers))} {cfg.activation}, {n} samples, {steps} steps from the "
        f"same {cfg.init} weights (seed {cfg.seed}), {cfg.dtype}; rates tried: {rates}"
    )
    return finish(fig, caption, path)


LOSS_CURVES = "loss_curves.png"
DECISION_SURFACE = "decision_surface.png"
HIDDEN_UNITS = "hidden_units.png"
UPDATE_SCHEDULES = "update_schedules.png"
OPTIMIZER_CURVES = "optimizers.png"
ALL = (LOSS_CURVES, DECISION_SURFACE, HIDDEN_UNITS, UPDATE_SCHEDULES, OPTIMIZER_CURVES)


def write_all(
    comparison: Comparison,
    initial: dict,
    x: np.ndarray,
    y: np.ndarray,
    folder: Path,
    caption: str,
) -> list[Path]:
    """Every figure that fits the net: the surface needs 2 inputs, the heatmap a hidden layer."""
    written = [loss_curves(comparison, caption, folder / LOSS_CURVES)]
    if comparison.diverged():
        return written
    if comparison.cfg.layers[0] == 2:
        written.append(decision_surfaces(comparison, x, y, caption, folder / DECISION_SURFACE))
    if comparison.cfg.depth > 1:
        written.append(hidden_activations(comparison, x, caption, folder / HIDDEN_UNITS))
    written.append(schedules(comparison, initial, x, y, folder / UPDATE_SCHEDULES))
    written.append(optimizers(comparison, initial, x, y, folder / OPTIMIZER_CURVES))
    return written
