"""Which layer parts first: the port's blocks (``port.blocks``) paired with the TF1 tensors at
their boundaries (``tf1.boundaries``), both sides' values there and the loss's gradients with
respect to them on the failing step's batch from TF1's weights before it, each judged against
TF1's own envelope of that value (the envelope's three sources, rerun to record the
boundaries).

The first block, in forward order, whose output leaves its envelope while its input does not
holds the mistake; where every output agrees, the first block from the end whose input-gradient
leaves its envelope while its output-gradient does not. Where every boundary agrees, the mistake
is no layer's: it is in the loss (after the last layer), in the optimizer (a training step), or
in the gradient of one block's own variables."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from backprop_suite.migration.port.blocks import Block, port_blocks
from backprop_suite.migration.port.crossings import boundary_shapes, crossing_values
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.layer_runs import load_layer_values, weights_at
from backprop_suite.migration.tf1.reruns import NUDGED, gap
from backprop_suite.migration.verdict.differences import in_envelopes
from backprop_suite.verify.rounding import MARGIN
from backprop_suite.verify.tolerances import Tolerance, difference


@dataclass
class LayerRow:
    """One block: its name and the layers without variables it holds, the TF1 tensors at its
    input and output, and how far the port is from TF1 there (in envelopes, or in tolerances
    where no envelope is measured; None: not compared), forward and backward; ``isolated_*``:
    the same for the block given TF1's input (``--isolate``)."""

    name: str
    layers: list[str]
    tf1_input: str | None
    tf1_output: str | None
    input_forward: float | None = None
    forward: float | None = None
    output_backward: float | None = None
    backward: float | None = None
    isolated_forward: float | None = None
    isolated_backward: float | None = None
    verdict: str = "agrees"
    hint: str | None = None
    note: str = ""  # why its output was paired as it was, where that is worth saying


@dataclass
class Localisation:
    """The blocks' rows, the one named (None: no layer's), from the plain comparison and, with
    ``--isolate``, from the blocks given TF1's input, and the summary line."""

    stage: str
    step: int  # 1-based: the step whose batch and starting weights were used
    unit: str  # "envelopes" or "tolerances"
    isolated: bool
    rows: list[LayerRow]
    first: str | None
    summary: str
    missing: dict[str, str] = field(default_factory=dict)  # envelope sources not measured
    first_alone: str | None = None  # the block named given TF1's inputs (``--isolate``)

    def table(self) -> str:
        names = [row.name for row in self.rows]
        outputs = [row.tf1_output or "-" for row in self.rows]
        left = max(len(n) for n in ["layer", *names])
        middle = max(len(n) for n in ["TF1 output", *outputs])
        columns = ["forward", "backward"] + (["alone fwd", "alone bwd"] if self.isolated else [])
        head = f"{'layer':<{left}}  {'TF1 output':<{middle}}"
        head += "".join(f" {c:>9}" for c in columns) + "  verdict"
        lines = [f"layers at step {self.step}, in {self.unit} (margin {self.limit:g}):", head]
        for row, name, output in zip(self.rows, names, outputs):
            found = [row.forward, row.backward]
            found += [row.isolated_forward, row.isolated_backward] if self.isolated else []
            line = f"{name:<{left}}  {output:<{middle}}" + "".join(f" {shown(v):>9}" for v in found)
            lines.append(f"{line}  {row.verdict}")
            if row.hint:
                lines.append(f"  hint: {row.hint}")
        lines.append(f"layers: {self.summary}")
        return "\n".join(lines)

    @property
    def limit(self) -> float:
        return MARGIN if self.unit == "envelopes" else 1.0

    def to_json(self) -> dict:
        return asdict(self)


def shown(value: float | None) -> str:
    if value is None:
        return "-"
    if np.isinf(value):
        return "inf"
    if value < 1000:
        return f"{value:.3g}"
    return f"{value:,.0f}" if value < 100_000 else f"{value:.2e}"


def step_of(failed) -> int:
    """The 0-based step whose batch the localisation uses: the first for the first-batch
    stages, the failing one for the training stages."""
    if failed is not None and failed.stage in ("one step", "many steps") and failed.step:
        return failed.step - 1
    return 0


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


def tf1_sides(old, record: Record, plan: dict, options, envelope: bool):
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
                raise ValueError(f"the layers' run failed: {done.error(2000)}")
            found, values = load_layer_values(out)
            return found, values, None, {}
        running = run_sources(base, Path(folder))
        results = {}
        missing = {}
        for name, (out, job) in running.items():
            done = job.wait()
            if done.returncode != 0 and name == NUDGED:
                raise ValueError(f"the layers' run failed: {done.error(2000)}")
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
    blocks = port_blocks(port, tuple(dict(options.layer_map)))
    order, _ = boundary_shapes(port, blocks, batch)
    blocks = [blocks[i] for i in order] + [b for i, b in enumerate(blocks) if i not in order]
    return blocks, boundary_shapes(port, blocks, batch)[1]


def planned(checker, options, step: int) -> tuple[list[Block], dict[int, tuple], dict]:
    """The port at TF1's weights before ``step``, its blocks in calling order, their
    boundaries' shapes and the plan of TF1's side (``tf1.layer_runs``)."""
    record, port = checker.record, checker.port
    trained, state = weights_at(record, step)
    port.assign(checker.carried(trained))
    port.assign_state(
        [link.port for link in checker.state],
        [link.carry(state[link.tf1]) for link in checker.state],
    )
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


def pairing(checker, old, options) -> str:
    """The port's blocks in calling order, each with the layers without variables it holds,
    TF1's variables it holds, and the TF1 tensors at its input and output."""
    blocks, shapes, plan = planned(checker, options, 0)
    found = tf1_sides(old, checker.record, plan, options, envelope=False)[0]
    tensors, why = found["tensors"], found["why"]
    lines = ["layers (the port's, in the order its model calls them; the TF1 tensors between):"]
    for j, block in enumerate(blocks):
        held = " + ".join([block.name] + block.followers)
        lines.append(f"  {held}: TF1's {', '.join(plan['layers'][j]) or 'no variables'}")
        for side, k in (("input ", j), ("output", j + 1)):
            shape = list(shapes.get(k, ()))
            where = tensors[k] or "none"
            where += f" ({why[k]})" if why[k] else ""
            lines.append(f"    {side} {where} (the port's {shape})")
    return "\n".join(lines)


def localise(checker, old, options, failed) -> Localisation:
    """The localisation of the failing stage ``failed`` (None: of a passing check, on the first
    batch), from TF1's weights before that step, in the port and in TF1 alike."""
    record, port = checker.record, checker.port
    step = step_of(failed)
    batch = record.batches[step]
    blocks, shapes, plan = planned(checker, options, step)
    n = len(blocks)
    use_envelope = options.envelope != "off"
    found, tf1, spread, missing = tf1_sides(old, record, plan, options, use_envelope)
    if set(plan["inputs"]) & {port.targets}:  # TF1's gradient there is also the targets'
        tf1.pop("grad/0", None)
    values, grads = crossing_values(port, blocks, batch, shapes)
    bound = checker.bound

    def judged(port_values: dict, key: str, i: int) -> float | None:
        own = None if spread is None else spread.get(f"{key}/{i}")
        return distance(port_values.get(i), tf1.get(f"{key}/{i}"), bound, own)

    forward = [judged(values, "value", i) for i in range(n + 1)]
    backward = [judged(grads, "grad", i) for i in range(n + 1)]
    rows = [
        LayerRow(
            block.name,
            [block.name] + block.followers,
            found["tensors"][j],
            found["tensors"][j + 1],
            input_forward=forward[j],
            forward=forward[j + 1],
            output_backward=backward[j + 1],
            backward=backward[j],
            note=found["why"][j + 1],
        )
        for j, block in enumerate(blocks)
    ]
    if options.isolate:
        isolate(port, blocks, batch, shapes, tf1, rows, judged)
    unit = "envelopes" if use_envelope else "tolerances"
    result = Localisation(
        failed.stage if failed is not None else "every stage agrees",
        step + 1,
        unit,
        options.isolate,
        rows,
        None,
        "",
        missing,
    )
    mark_rows(result, found["why"])
    result.first, result.summary = named_block(result, failed, checker, blocks, alone=False)
    if options.isolate:
        result.first_alone, alone = named_block(result, failed, checker, blocks, alone=True)
        if result.first_alone != result.first or result.first is not None:
            result.summary += f"; alone: {alone}"
    for row in rows:
        if row.name == result.first:
            row.verdict = "PARTS FIRST"
        elif row.name == result.first_alone:
            row.verdict = "PARTS ALONE"
    attach_hint(result, failed, blocks, port)
    return result


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


def outside(value: float | None, limit: float) -> bool:
    return value is not None and value > limit


def mark_rows(result: Localisation, why: list[str]) -> None:
    """Each row's verdict: not compared (and why), apart, or agrees."""
    for j, row in enumerate(result.rows):
        compared = [row.forward, row.backward]
        if result.isolated:
            compared += [row.isolated_forward, row.isolated_backward]
        if all(value is None for value in compared):
            row.verdict = "not compared: " + (why[j + 1] or why[j])
        elif any(outside(value, result.limit) for value in compared):
            row.verdict = "apart"


def named_block(
    result: Localisation, failed, checker, blocks, alone: bool
) -> tuple[str | None, str]:
    """The block that holds the mistake (None: no layer's) and the sentence that says so, from
    the plain comparison or from the blocks given TF1's input (``alone``)."""
    limit, unit, rows = result.limit, result.unit, result.rows
    if alone:
        forward = [r for r in rows if outside(r.isolated_forward, limit)]
        backward = [r for r in reversed(rows) if outside(r.isolated_backward, limit)]
    else:
        forward = [r for r in rows if outside(r.forward, limit)]
        backward = [
            r
            for r in reversed(rows)
            if outside(r.backward, limit) and not outside(r.output_backward, limit)
        ]
    if forward:
        row = forward[0]
        if alone:
            return row.name, (
                f"{row.name}: given TF1's own input, its output does not agree "
                f"({shown(row.isolated_forward)} {unit})"
            )
        given = "its input is not compared"
        if row.input_forward is not None and not outside(row.input_forward, limit):
            given = f"its input agrees ({shown(row.input_forward)} {unit})"
        if row.note and row.tf1_output:
            return row.name, f"{row.name}: {given}, its output does not: {row.note}"
        return row.name, f"{row.name}: {given}, its output does not ({shown(row.forward)} {unit})"
    last = rows[-1] if rows else None
    if not alone and last is not None and outside(last.output_backward, limit):
        return None, (
            "no layer's: every layer's output agrees, but the loss's gradient with respect to "
            f"the model's output does not ({shown(last.output_backward)} {unit}): the mistake "
            "is in the loss"
        )
    if backward:
        row = backward[0]
        found = row.isolated_backward if alone else row.backward
        given = "given TF1's output-gradient, " if alone else "its output-gradient agrees, "
        return row.name, f"{row.name}: {given}its input-gradient does not ({shown(found)} {unit})"
    stage = failed.stage if failed is not None else None
    owner = variable_owner(failed, checker, blocks) if stage == "gradients" else None
    if owner is not None:
        return owner.name, (
            f"{owner.name}: every layer's output and input-gradient agrees, but the gradient of "
            "its own weights does not: the layer's gradient with respect to its variables"
        )
    if stage in ("one step", "many steps"):
        return None, (
            f"no layer's: from TF1's weights before step {result.step} every layer's output and "
            "gradient agrees: the mistake is in the update (the optimizer)"
        )
    if stage in ("loss", "gradients"):
        return None, "no layer's: every layer's output and gradient agrees: it is in the loss"
    if stage is None:
        return None, "every layer agrees"
    return None, "no layer's output leaves its envelope"


def variable_owner(failed, checker, blocks) -> Block | None:
    """The block whose variable the failing gradients stage names."""
    for block in blocks:
        for i in block.variables:
            if f"the gradient of {checker.port.names[i]}" in (failed.where or ""):
                return block
    return None


def attach_hint(result: Localisation, failed, blocks, port) -> None:
    """The failing stage's hint on the row of the layer it names; the forward stage's generic
    one made the named layer's."""
    from backprop_suite.migration.verdict.hints import GENERIC_FORWARD

    if failed is not None and failed.hint == GENERIC_FORWARD and result.first is not None:
        failed.hint = (
            f"the weights agree but {result.first}'s output does not, given an input that "
            "agrees: compare its activation, padding, pooling, dropout rate, epsilon and "
            "kernel layout with TF1's"
        )
    hint = getattr(failed, "hint", None)
    if not hint:
        return
    for row, block in zip(result.rows, blocks):
        words = row.layers + [port.names[i] for i in block.variables]
        if any(re.search(rf"(?<![\w/]){re.escape(w)}(?!\w)", hint) for w in words):
            row.hint = hint
            return
