"""A sweep's results as JSON records, their summaries, and the merge of shards.

A cell's record holds every seed's final loss, verdict and steps until solved, and the outputs of
the seeds that failed; its summary (solved fraction, loss quantiles, steps until solved, failed
seeds) is computed from those lists alone, so a record merged from shards summarises exactly as
the unsharded run's does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backprop_suite.core import xor_data
from backprop_suite.sweep.run import NOT_SOLVED, Cell

LABEL_KEYS = ("layers", "learning_rate", "optimizer", "init", "steps")
PER_SEED_KEYS = ("seeds", "final_loss", "solved", "solved_at")
LOSS_QUANTILES = {"min": 0, "p5": 5, "p25": 25, "median": 50, "p75": 75, "p95": 95, "max": 100}
STEP_QUANTILES = {"min": 0, "median": 50, "p90": 90, "max": 100}


def record_of(cell: Cell) -> dict:
    """A cell as JSON values: its label, its per-seed lists (a final loss that is NaN or inf, a
    diverged net, as null) and the failed seeds' outputs (NaN as null)."""
    failed = ~cell.solved
    record = {
        **cell.label(),
        "per_seed": {
            "seeds": [int(seed) for seed in cell.seeds],
            "final_loss": [float(loss) if np.isfinite(loss) else None for loss in cell.final_loss],
            "solved": [bool(solved) for solved in cell.solved],
            "solved_at": [int(step) for step in cell.solved_at],
        },
        "failed_outputs": [
            [[float(v) if np.isfinite(v) else None for v in row] for row in outputs]
            for outputs in cell.outputs[failed]
        ],
    }
    return summarise(record)


def quantiles(values: Sequence[float], points: dict[str, float]) -> dict[str, float] | None:
    if len(values) == 0:
        return None
    at = np.percentile(np.asarray(values, dtype=np.float64), list(points.values()))
    return {name: float(value) for name, value in zip(points, at)}


UNDECIDED = 0.1  # an output within this of 0.5 has not taken a side


def failure_shapes(record: dict) -> list[dict]:
    """The failed nets grouped by how many outputs are on their target's side, undecided
    (within ``UNDECIDED`` of 0.5) and on the wrong side, most common first, each with its
    count and median final loss."""
    per_seed = record["per_seed"]
    losses = [loss for loss, ok in zip(per_seed["final_loss"], per_seed["solved"]) if not ok]
    targets = xor_data()[1].ravel()
    groups: dict[tuple[int, int, int], list] = {}
    for outputs, loss in zip(record["failed_outputs"], losses):
        values = np.array([np.nan if v is None else v for v in np.ravel(outputs)], dtype=float)
        undecided = np.abs(values - 0.5) < UNDECIDED
        right = ((values > 0.5) == (targets > 0.5)) & ~undecided & np.isfinite(values)
        shape = (int(right.sum()), int(undecided.sum()), int((~right & ~undecided).sum()))
        groups.setdefault(shape, []).append(np.inf if loss is None else loss)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        {
            "right": shape[0],
            "undecided": shape[1],
            "wrong": shape[2],
            "nets": len(group),
            "median_loss": float(np.median(group)),
        }
        for shape, group in ranked
    ]


def summarise(record: dict) -> dict:
    """``record`` with its summary computed afresh from its per-seed lists."""
    per_seed = record["per_seed"]
    solved = np.asarray(per_seed["solved"], dtype=bool)
    solved_at = np.asarray(per_seed["solved_at"])
    first_solved = solved_at[solved_at != NOT_SOLVED]
    failed_seeds = [seed for seed, ok in zip(per_seed["seeds"], solved) if not ok]
    finite = [loss for loss in per_seed["final_loss"] if loss is not None]
    summary = {
        "nets": len(solved),
        "solved": int(solved.sum()),
        "solved_fraction": float(solved.mean()),
        "diverged": len(solved) - len(finite),
        "final_loss": quantiles(finite, LOSS_QUANTILES),
        "steps_until_solved": quantiles(first_solved, STEP_QUANTILES),
        "failed_seeds": failed_seeds,
        "failure_shapes": failure_shapes(record),
    }
    return {key: value for key, value in record.items() if key not in summary} | summary


def label_of(record: dict) -> tuple:
    return tuple(
        tuple(record[key]) if isinstance(record[key], list) else record[key] for key in LABEL_KEYS
    )


def run_label(record: dict) -> tuple:
    return label_of(record)[:-1]


def rescued(records: Sequence[dict]) -> dict[tuple, dict[int, int]]:
    """For each cell, how many of its failed seeds the same run has learned after each later
    checkpoint: more steps rescuing a net says it sat on a plateau, not in a minimum."""
    found: dict[tuple, dict[int, int]] = {}
    for record in records:
        failed = set(record["failed_seeds"])
        later = {}
        for other in records:
            if run_label(other) == run_label(record) and other["steps"] > record["steps"]:
                solved = zip(other["per_seed"]["seeds"], other["per_seed"]["solved"])
                later[other["steps"]] = sum(1 for seed, ok in solved if ok and seed in failed)
        found[label_of(record)] = later
    return found


def merge(documents: Sequence[dict]) -> dict:
    """One sweep's JSON from its shards' JSON: the same settings, shards 1..N of one N each once,
    cells with the same labels; ValueError naming what does not fit."""
    if not documents:
        raise ValueError("merge needs at least one shard")
    settings = [{k: v for k, v in doc["sweep"].items() if k != "shard"} for doc in documents]
    if any(s != settings[0] for s in settings):
        raise ValueError("the shards were swept with different settings; merge only one sweep's")
    shards = [doc["sweep"].get("shard") for doc in documents]
    if None in shards:
        raise ValueError("a file given to merge is not a shard (it was swept without --shard)")
    counts = {count for _, count in shards}
    indices = sorted(index for index, _ in shards)
    if len(counts) > 1 or indices != list(range(1, next(iter(counts)) + 1)):
        given = ", ".join(f"{i}/{n}" for i, n in shards)
        raise ValueError(f"merge needs shards 1 to N of one N, each once; got {given}")
    labels = [[label_of(cell) for cell in doc["cells"]] for doc in documents]
    if any(label != labels[0] for label in labels):
        raise ValueError("the shards hold different cells; merge only one sweep's")
    cells = []
    for position in range(len(labels[0])):
        parts = [doc["cells"][position] for doc in documents]
        cells.append(merge_cell(parts))
    return {"sweep": {**settings[0], "shard": None}, "cells": cells}


def merge_cell(parts: Sequence[dict]) -> dict:
    rows = []
    for part in parts:
        failed_outputs = iter(part["failed_outputs"])
        for values in zip(*(part["per_seed"][key] for key in PER_SEED_KEYS)):
            rows.append((*values, None if values[2] else next(failed_outputs)))
    rows.sort(key=lambda row: row[0])
    if len({row[0] for row in rows}) != len(rows):
        raise ValueError("two shards hold the same seed; merge only one sweep's shards")
    record = {key: parts[0][key] for key in LABEL_KEYS}
    record["per_seed"] = {key: [row[i] for row in rows] for i, key in enumerate(PER_SEED_KEYS)}
    record["failed_outputs"] = [row[-1] for row in rows if row[-1] is not None]
    return summarise(record)
