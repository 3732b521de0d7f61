"""TF1's side of the layer localisation, in the TF1 child: the tensors at the port's layer
boundaries (``boundaries``), their values and the loss's gradient with respect to each, on the
batch of one step from TF1's weights before it; with ``nudges``, how far they move when those
weights move by one rounding (the envelope's first source).

``plan`` (from the port's side, ``verdict.layers``): ``layers``, each layer's TF1 variables in the
port's order; ``inputs``, the feeds the port reads; ``sizes``, the element count of each layer's
input in the port; ``named``, layer index -> the TF1 tensor the user paired with that layer's input
(``--layer-map``); ``step``, the step (0: the first batch, from the initial weights)."""

from __future__ import annotations

import json
import os

import numpy as np

from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.old_program import OldProgram
from backprop_suite.migration.tf1.reruns import gap, started
from backprop_suite.verify.rounding import nudge


def chosen_boundaries(program, plan: dict, session, feed: dict) -> tuple[list, list[str], list]:
    """Each layer's input tensor, then the last layer's output (the one the user named, or the
    program's outputs), None where no tensor fits, with why; and whether the loss's gradient
    there also comes round the layer it enters (``bypasses``: not the layer's to compare)."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.boundaries import ancestors, boundary_candidates, bypasses
    from backprop_suite.migration.tf1.program import name_of

    graph, built = program.graph, program.built
    by_name = {name_of(v): v for v in program.variables}
    layers = [[by_name[name] for name in names] for names in plan["layers"]]
    inputs = [built["feeds"][name] for name in plan["inputs"]]
    outputs = built.get("outputs")
    ends = [built["loss"]] + ([outputs] if outputs is not None else [])
    named = {int(k): tensor_named(graph, v) for k, v in plan.get("named", {}).items()}
    candidates, entries = boundary_candidates(graph, inputs, layers, ends, named)
    sizes = session.run([[tf.size(t) for t in found] for found in candidates], feed)
    tensors, why = [], []
    for k, (found, counts) in enumerate(zip(candidates, sizes)):
        fits = [t for t, count in zip(found, counts) if int(count) == plan["sizes"][k]]
        if k - 1 in named:
            fits = [named[k - 1]]
        if fits:
            tensors.append(fits[0])
            why.append("")
        elif found:  # the furthest down, whose size the port's tensor should have had
            tensors.append(found[0])
            why.append(
                f"the port's tensor has {plan['sizes'][k]} elements, TF1's {found[0].name} "
                f"{int(counts[0])}"
            )
        else:
            tensors.append(None)
            why.append("no one TF1 tensor lies between this layer and the one before")
    last = named.get(len(layers) - 1, outputs)
    tensors.append(last)
    why.append("" if last is not None else "no --outputs names the last layer's output")
    loss, within = built["loss"], ancestors([built["loss"]])
    bypassed = [
        tensor is not None and k < len(layers) and bypasses(tensor, entries[k], loss, within)
        for k, tensor in enumerate(tensors)
    ]
    return tensors, why, bypassed


def tensor_named(graph, name: str):
    """The tensor ``name`` of ``graph``; a ``ValueError`` that says ``--layer-map`` names it
    where the graph has none."""
    try:
        return graph.get_tensor_by_name(name)
    except (KeyError, ValueError):
        raise ValueError(
            f"--layer-map names TF1's {name}, which the TF1 graph does not have (--list shows "
            "the tensors between the layers)"
        ) from None


def weights_at(record: Record, step: int) -> tuple[list, list]:
    """TF1's trained and state variables before ``step``."""
    if step == 0:
        return record.initial, record.state_initial
    return record.after[step - 1], record.state_after[step - 1]


def layer_values(
    old: OldProgram,
    record: Record,
    plan: dict,
    dtype: str | None,
    random: str,
    seed: int,
    nudges: int,
    threads: int | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """The boundaries (names, and why where there is none) and, as arrays, each boundary's
    value (``value/i``) and gradient (``grad/i``); with ``nudges``, the largest gap of that many
    runs from nudged weights (``spread/value/i``, ``spread/grad/i``)."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.reruns import built

    v1 = tf.compat.v1
    program, _ = built(old, record, dtype, random, seed, threads)
    step = plan["step"]
    kinds = record.meta.get("kinds")
    feeds = program.feeds(record.batches, "the record's batches", kinds)
    loss = program.turn(kinds[step] if kinds else 0)["loss"]
    trained, state = weights_at(record, step)
    with program.graph.as_default(), v1.Session(config=program.config) as session:
        started(session, program, record, program.trained + program.state, trained + state)
        tensors, why, bypassed = chosen_boundaries(program, plan, session, feeds[step])
        index = [i for i, tensor in enumerate(tensors) if tensor is not None]
        grads = tf.gradients(loss, [tensors[i] for i in index]) if index else []
        fetch = {f"value/{i}": tensors[i] for i in index}
        fetch.update(
            {f"grad/{i}": tf.convert_to_tensor(g) for i, g in zip(index, grads) if g is not None}
        )

        def run() -> dict[str, np.ndarray]:
            found = program.unchanged(session, fetch, feeds[step])
            return {key: np.asarray(value) for key, value in found.items()}

        base = run()
        rng = np.random.default_rng(0)
        spread: dict[str, np.ndarray] = {}
        for _ in range(nudges):
            for variable, value in zip(program.trained, trained):
                variable.load(nudge(value, rng), session)
            for key, value in run().items():
                found = gap(value, base[key])
                spread[key] = found if key not in spread else np.maximum(spread[key], found)
    names = [None if t is None else t.name for t in tensors]
    meta = {"tensors": names, "why": why, "bypassed": bypassed}
    return meta, {**base, **{f"spread/{k}": v for k, v in spread.items()}}


def save_layer_values(path: str | os.PathLike, meta: dict, arrays: dict) -> None:
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_layer_values(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path) as stored:
        meta = json.loads(str(stored["meta"]))
        return meta, {key: stored[key] for key in stored.files if key != "meta"}
