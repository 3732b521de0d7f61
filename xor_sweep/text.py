"""A sweep's records as the table ``sweep.py`` prints and as CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from xor_sweep.report import label_of, rescued

SHOWN_FAILED = 6
CSV_COLUMNS = (
    "layers",
    "learning_rate",
    "optimizer",
    "init",
    "steps",
    "nets",
    "solved",
    "solved_fraction",
    "diverged",
    "loss_min",
    "loss_median",
    "loss_p95",
    "loss_max",
    "steps_until_solved_median",
    "steps_until_solved_p90",
    "steps_until_solved_max",
    "failed_seeds",
)


def describe(settings: dict) -> str:
    shard = settings.get("shard")
    part = f", shard {shard[0]}/{shard[1]}" if shard else ""
    return (
        f"XOR, {settings['activation']}, {settings['loss']}, {settings['dtype']}, full batch; "
        f"learned = {settings['criterion']}{part}"
    )


def failed_list(seeds: Sequence[int]) -> str:
    shown = " ".join(map(str, seeds[:SHOWN_FAILED]))
    more = f" … (+{len(seeds) - SHOWN_FAILED})" if len(seeds) > SHOWN_FAILED else ""
    return (shown + more) or "-"


def step_quantiles(record: dict) -> str:
    steps = record["steps_until_solved"]
    return "-" if steps is None else f"{steps['median']:.0f} {steps['p90']:.0f} {steps['max']:.0f}"


def table(document: dict) -> str:
    """One line per cell: what it is, how many nets learned, the final losses' median, 95th
    percentile and maximum, steps until learned, how many failures later steps rescue, and
    the first failed seeds."""
    records = document["cells"]
    later = rescued(records)
    lines = [describe(document["sweep"])]
    header = (
        f"{'layers':<8}{'rate':>6} {'optimizer':<10}{'init':<9}{'steps':>6}"
        f"{'learned':>20}  {'loss median p95 max':<26}{'steps to learn':>16}  "
        f"{'rescued later':<16}failed seeds"
    )
    lines.append(header)
    for record in records:
        layers = "-".join(map(str, record["layers"]))
        learned = f"{record['solved_fraction']:.2%} ({record['solved']}/{record['nets']})"
        loss = record["final_loss"]
        shown = ("median", "p95", "max")
        losses = "-" if loss is None else " ".join(f"{loss[q]:.3g}" for q in shown)
        diverged = f"; {record['diverged']} diverged (NaN or inf)" if record["diverged"] else ""
        rescue = later[label_of(record)]
        rescue_text = " ".join(f"{n} by {steps}" for steps, n in rescue.items()) or "-"
        lines.append(
            f"{layers:<8}{record['learning_rate']:>6g} {record['optimizer']:<10}"
            f"{record['init']:<9}{record['steps']:>6}{learned:>20}  {losses:<26}"
            f"{step_quantiles(record):>16}  {rescue_text:<16}"
            f"{failed_list(record['failed_seeds'])}{diverged}"
        )
    return "\n".join(lines)


def csv_text(document: dict) -> str:
    """One row per cell, the columns of ``CSV_COLUMNS``; failed seeds space-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in document["cells"]:
        loss = record["final_loss"] or {}
        steps = record["steps_until_solved"] or {}
        writer.writerow(
            [
                "-".join(map(str, record["layers"])),
                record["learning_rate"],
                record["optimizer"],
                record["init"],
                record["steps"],
                record["nets"],
                record["solved"],
                record["solved_fraction"],
                record["diverged"],
                loss.get("min", ""),
                loss.get("median", ""),
                loss.get("p95", ""),
                loss.get("max", ""),
                steps.get("median", ""),
                steps.get("p90", ""),
                steps.get("max", ""),
                " ".join(map(str, record["failed_seeds"])),
            ]
        )
    return buffer.getvalue()
