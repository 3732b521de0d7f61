"""A sweep's records as the table ``sweep.py`` prints and as CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from backprop_suite.sweep.report import label_of, rescued

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
    header = [
        "layers", "rate", "optimizer", "init", "steps", "learned", "loss median p95 max",
        "steps to learn", "rescued later", "failed seeds",
    ]  # fmt: skip
    rows = [header]
    for record in records:
        loss = record["final_loss"]
        shown = ("median", "p95", "max")
        rescue = later[label_of(record)]
        diverged = f"; {record['diverged']} diverged (NaN or inf)" if record["diverged"] else ""
        rows.append(
            [
                "-".join(map(str, record["layers"])),
                f"{record['learning_rate']:g}",
                record["optimizer"],
                record["init"],
                str(record["steps"]),
                f"{record['solved_fraction']:.2%} ({record['solved']}/{record['nets']})",
                "-" if loss is None else " ".join(f"{loss[q]:.3g}" for q in shown),
                step_quantiles(record),
                ", ".join(f"{n} by {steps}" for steps, n in rescue.items()) or "-",
                failed_list(record["failed_seeds"]) + diverged,
            ]
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    right_aligned = {1, 4, 5, 7}
    lines = [describe(document["sweep"])]
    for row in rows:
        cells = [
            cell.rjust(width) if column in right_aligned else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells + [row[-1]]))
    lines.extend(failure_lines(records))
    return "\n".join(lines)


def failure_lines(records: Sequence[dict]) -> list[str]:
    """What the failed nets' outputs look like, cell by cell: how many outputs are right,
    undecided (within 0.1 of 0.5) or wrong, with how many nets and their median loss."""
    lines = []
    for record in records:
        if not record["failure_shapes"]:
            continue
        layers = "-".join(map(str, record["layers"]))
        shapes = "; ".join(
            f"{s['nets']} with {s['right']} right, {s['undecided']} at 0.5, {s['wrong']} wrong "
            f"(loss {s['median_loss']:.3g})"
            for s in record["failure_shapes"][:3]
        )
        more = len(record["failure_shapes"]) - 3
        lines.append(
            f"failed {layers} rate {record['learning_rate']:g} {record['optimizer']} "
            f"{record['init']} {record['steps']} steps: {shapes}"
            + (f"; {more} other shapes" if more > 0 else "")
        )
    return lines


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
