"""``backprop-bench --plot``: each implementation's time as the problem grows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from backprop_suite.core.outputs import save_png  # noqa: E402


def plot_scaling(rows: list[dict], steps: int, path: str) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (axis, label) in zip(
        axes,
        (
            ("width", "hidden width W (2-W-1 net, 4 XOR rows)"),
            ("samples", "samples (2-3-1 net, noisy_xor)"),
        ),
    ):
        for name in dict.fromkeys(row["impl"] for row in rows):
            points = [
                (r["size"], r["median_s"]) for r in rows if (r["axis"], r["impl"]) == (axis, name)
            ]
            ax.plot(*zip(*points), marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(f"seconds for {steps} steps (median)")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle("Cost of each implementation's default train() as the problem grows")
    fig.tight_layout()
    save_png(fig, path)
