"""Both sides of the layer localisation: the port at TF1's weights before a step, its blocks in
calling order (``port.blocks``) and their boundaries' values and gradients (``port.crossings``);
TF1's tensors there with their values, gradients and envelope from the envelope's three sources
(``tf1.layer_runs``, in the TF1 child); and how far apart the two are."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from backprop_suite.migration.port.blocks import Block, port_blocks
from backprop_suite.migration.port.crossings import boundary_shapes, crossing_values
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.layer_runs import load_layer_values, weights_at
from backprop_suite.migration.tf1.reruns import NUDGED, gap
from backprop_suite.migration.verdict.differences import in_envelopes
from backprop_suite.migration.verdict.layer_table import LayerRow
from backprop_suite.verify.tolerances import Tolerance, difference


def plan_of(record: Record, links, blocks: list[Block], port, sizes, step, named) -> dict:
    tf1_names = {link.port: record.names[link.tf1] for link in links}
    layers = []
    for block in blocks:
        names = sorted({tf1_names[i] for i in block.variables if i in tf1_names})
        layers.append(names)
    inputs = [port.inputs] if isinstance(port.inputs, str) else list(port.inputs)
    return {
        "layers": layers,
        "inputs": inputs,
        "sizes": sizes,
        "named": named,
        "step": step,
    }


def tf1_sides(old, record: Record, plan: dict, envelope: bool):
    """TF1's boundaries and values (``layer_runs``), and the envelope of each value: the
    largest of the nudged runs' gaps and of the other sources' (None without an envelope)."""
    from backprop_suite.migration.processes import child_environment, run_job
    from backprop_suite.migration.verdict.envelope import run_sources

    with tempfile.TemporaryDirectory() as folder:
        recorded, planned = Path(folder) / "record.npz", Path(folder) / "plan.json"
        record.save(recorded)
        planned.write_text(json.dumps(plan))
        meta = record.meta
        base = ["layers", str(old.path), str(recorded), str(planned), *old.arguments()]
        base += ["--random", meta["random"], "--seed", str(meta["seed"])]
        base += ["--dtype", meta["dtype"]] if meta.get("dtype") else []
        if not envelope:
            out = Path(folder) / "layers.npz"
            done = run_job(base + ["--nudges", "0", str(out)], child_environment())
            if done.returncode != 0:
                raise ValueError(failure(done))
            found, values = load_layer_values(out)
            return found, values, None, {}
        running = run_sources(base, Path(folder))
        results = {}
        missing = {}
        for name, (out, job) in running.items():
            done = job.wait()
            if done.returncode != 0 and name == NUDGED:
                raise ValueError(failure(done))
            if done.returncode != 0:
                missing[name] = f"the program cannot run so: {done.last_line()}"
                continue
            results[name] = load_layer_values(out)
    found, values = results.pop(NUDGED)
    spread = {key[len("spread/") :]: v for key, v in values.items() if key.startswith("spread/")}
    base_values = {key: v for key, v in values.items() if not key.startswith("spread/")}
    for name, (other, others) in results.items():
        if other["tensors"] != found["tensors"]:
            missing[name] = "the program made other boundary tensors when it ran so"
            continue
        for key, value in base_values.items():
            if key in others:
                moved = gap(others[key], value)
                spread[key] = np.maximum(spread.get(key, moved), moved)
    return found, base_values, spread, missing


def failure(done) -> str:
    """What the TF1 side of the layers said when it failed: its own ``error:`` line where the
    plan was bad input (a ``--layer-map`` tensor the graph lacks), else its end."""
    if done.returncode == 2:
        return done.error()
    return f"the layers' run failed: {done.error(2000)}"


def in_layout(value: np.ndarray, shape: tuple) -> np.ndarray | None:
    """``value`` in the layout ``shape``: as it is, transposed where the axes are the same in
    another order (NHWC against NCHW, batch-major against time-major), or reshaped; None where
    the sizes differ."""
    value = np.asarray(value)
    shape = tuple(shape)
    if value.shape == shape:
        return value
    if value.size != int(np.prod(shape)):
        return None
    if value.ndim == len(shape) and sorted(value.shape) == sorted(shape):
        free = list(range(value.ndim))
        order = []
        for length in shape:
            axis = next(a for a in free if value.shape[a] == length)
            free.remove(axis)
            order.append(axis)
        return np.transpose(value, order)
    return value.reshape(shape)


def distance(new, old, bound: Tolerance, envelope) -> float | None:
    """How far ``new`` is from ``old``: in envelopes (0 within the tolerance), or in
    tolerances without an envelope; infinitely far where their sizes differ; None where one is
    missing."""
    if new is None or old is None:
        return None
    new = in_layout(new, np.shape(old))
    if new is None:  # another size: the port computes something else there
        return float("inf")
    if not np.all(np.isfinite(new)) and np.all(np.isfinite(old)):
        return float("inf")
    if envelope is None:
        return difference(new, old, bound).excess
    return in_envelopes(new, old, bound, envelope).envelopes


def tensor_name(name: str) -> str:
    return name if ":" in name else f"{name}:0"


def ordered_blocks(port, options, batch) -> tuple[list[Block], dict[int, tuple]]:
    """The port's blocks in the order its model calls them, and its boundaries' shapes."""
    named = tuple(dict(options.layer_map))
    blocks = port_blocks(port, named)
    order, shapes = boundary_shapes(port, blocks, batch)
    uncalled = [blocks[i].name for i in range(len(blocks)) if i not in order]
    if any(name in named for name in uncalled):
        raise ValueError(
            f"--layer-map names {uncalled}, which the model does not call with one tensor: a "
            "layer of several inputs (Add, Concatenate) cannot be a row of its own"
        )
    every = order + [i for i in range(len(blocks)) if i not in order]
    # shapes by position in calling order; the model's output stays last
    moved = {j: shapes[i] for j, i in enumerate(every) if i in shapes}
    moved[len(blocks)] = shapes[len(blocks)]
    return [blocks[i] for i in every], moved


def planned(checker, options, step: int) -> tuple[list[Block], dict[int, tuple], dict]:
    """The port at TF1's weights before ``step``, its blocks in calling order, their
    boundaries' shapes and the plan of TF1's side (``tf1.layer_runs``)."""
    record, port = checker.record, checker.port
    checker.load(*weights_at(record, step))
    blocks, shapes = ordered_blocks(port, options, record.batches[step])
    named = dict(options.layer_map)
    plan = plan_of(
        record,
        checker.links,
        blocks,
        port,
        [int(np.prod(shapes[i])) if i in shapes else -1 for i in range(len(blocks))],
        step,
        {str(j): tensor_name(named[b.name]) for j, b in enumerate(blocks) if b.name in named},
    )
    return blocks, shapes, plan


def isolate(port, blocks, batch, shapes, tf1: dict, rows: list[LayerRow], judged) -> None:
    """Each block given TF1's input, and its input-gradient from TF1's output-gradient (where
    TF1's tensor has the port's size)."""
    n = len(blocks)

    def tf1_side(key: str, indices) -> dict:
        found = {i: in_layout(tf1[f"{key}/{i}"], shapes[i]) for i in indices if f"{key}/{i}" in tf1}
        return {i: value for i, value in found.items() if value is not None}

    instead = tf1_side("value", range(n))
    back = tf1_side("grad", range(1, n + 1))
    alone, alone_grads = crossing_values(port, blocks, batch, shapes, instead, back)
    for j, row in enumerate(rows):
        row.isolated_forward = judged(alone, "value", j + 1) if j in instead else None
        if j in instead and j + 1 in back:
            row.isolated_backward = judged(alone_grads, "grad", j)
