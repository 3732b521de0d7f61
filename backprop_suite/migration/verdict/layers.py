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

import re

from backprop_suite.migration.port.blocks import Block
from backprop_suite.migration.port.crossings import crossing_values
from backprop_suite.migration.verdict.layer_sides import distance, isolate, planned, tf1_sides
from backprop_suite.migration.verdict.layer_table import LayerRow, Localisation, shown


def step_of(failed) -> int:
    """The 0-based step whose batch the localisation uses: the first for the first-batch
    stages, the failing one for the training stages."""
    if failed is not None and failed.stage in ("one step", "many steps") and failed.step:
        return failed.step - 1
    return 0


def pairing(checker, old, options) -> str:
    """The port's blocks in calling order, each with the layers without variables it holds,
    TF1's variables it holds, and the TF1 tensors at its input and output."""
    blocks, shapes, plan = planned(checker, options, 0)
    found = tf1_sides(old, checker.record, plan, envelope=False)[0]
    tensors, why = found["tensors"], found["why"]
    lines = ["layers (the port's, in the order its model calls them; the TF1 tensors between):"]
    for j, block in enumerate(blocks):
        held = " + ".join([block.name] + block.followers)
        lines.append(f"  {held}: TF1's {', '.join(plan['layers'][j]) or 'no variables'}")
        for side, k in (("input ", j), ("output", j + 1)):
            shape = list(shapes.get(k, ()))
            where = tensors[k] or "none"
            where += f" ({why[k]})" if why[k] else ""
            if found["bypassed"][k]:
                where += " (the loss also reads it round this layer: compared forward only)"
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
    found, tf1, spread, missing = tf1_sides(old, record, plan, use_envelope)
    values, grads = crossing_values(port, blocks, batch, shapes)
    bound = checker.bound

    def judged(port_values: dict, key: str, i: int) -> float | None:
        if key == "grad" and found["bypassed"][i]:  # a skip connection's, the targets'
            return None
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
        if row.name in (result.first or "").split(" or "):
            row.verdict = "PARTS FIRST"
        elif row.name in (result.first_alone or "").split(" or "):
            row.verdict = "PARTS ALONE"
    attach_hint(result, failed, blocks, port)
    return result


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
        apart = f"its output does not ({shown(row.forward)} {unit})"
        if row.note and row.tf1_output:
            apart = f"its output does not: {row.note}"
        j = rows.index(row)
        if row.input_forward is None and j > 0:  # the mistake may be in the layers before
            before = [r.name for r in rows[: j + 1]]
            k = max((i for i in range(j) if rows[i].input_forward is not None), default=0)
            held = " or ".join(before[k:])
            return held, (
                f"{held}: no TF1 tensor between them is compared ({rows[j - 1].verdict}), and "
                f"{row.name}'s {apart[4:]}"
            )
        given = "its input is not compared"
        if row.input_forward is not None and not outside(row.input_forward, limit):
            given = f"its input agrees ({shown(row.input_forward)} {unit})"
        return row.name, f"{row.name}: {given}, {apart}"
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

    one = result.first is not None and " or " not in result.first
    if failed is not None and failed.hint == GENERIC_FORWARD and one:
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
