"""The runs, in the TF1 child, that measure how far the TF1 program moves from itself under what
any correct port is entitled to: the envelope that the steps after the first are judged against
(``verdict.envelope`` gathers them).

Each source reruns the program from the record's initial weights on the record's batches and
measures, element by element, the absolute difference from the record of the gradients on the
first batch, and step by step of the loss before the update and of every variable after it:

- ``NUDGES`` runs from the initial weights each moved by one rounding
  (``backprop_suite.verify.rounding``);
- ``NUDGES`` runs with every gradient that reaches a ``tf.compat.v1.train`` optimizer moved by
  one rounding of its largest element, drawn anew at each step (``rounding_noise``);
- one run with TensorFlow's oneDNN graph rewrites switched the other way, and one on one thread,
  each in a process of its own (both are read when TensorFlow starts).

The envelope is the largest of them, element by element: an element that an optimizer makes
sensitive (Adam's update of a gradient near 0) gets a wide one, the others stay narrow.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.graph_inputs import CHECKS_OWN
from backprop_suite.migration.tf1.old_program import OldProgram
from backprop_suite.migration.tf1.program import Program, name_of
from backprop_suite.verify.rounding import nudge

NUDGED = "one rounding of the initial weights"


NOISE = "a rounding's noise in every gradient"


ONEDNN = "oneDNN's graph rewrites {}"


THREADS = "one thread"


PLAIN = "run"  # the key of a child's one run, named by the settings it ran under


@contextlib.contextmanager
def rounding_noise(runs: int, chosen: list) -> Iterator[None]:
    """While building, every gradient given to a ``tf.compat.v1.train`` optimizer's
    ``apply_gradients`` (``minimize`` calls it) moves by one rounding of its variable's largest
    gradient, ``± eps · max|g|``, at each element that is not exactly 0, the sign drawn anew at
    each step: the rounding of a sum whose terms are as large as that, as a port's own sums
    round. The graph holds the draws of ``runs`` runs, run ``k``'s seeded ``1000 k + index``,
    and each call appends to ``chosen`` the placeholder that says which run a step takes."""
    import tensorflow as tf
    from tensorflow.python.training.optimizer import Optimizer

    original = Optimizer.apply_gradients

    def noisy(gradient, index: int, run):
        values = gradient.values if isinstance(gradient, tf.IndexedSlices) else gradient
        eps = np.finfo(values.dtype.as_numpy_dtype).eps
        with tf.name_scope(CHECKS_OWN):
            draws = [
                tf.random.uniform(tf.shape(values), -1, 1, values.dtype, seed=1000 * k + index)
                for k in range(runs)
            ]
        scale = eps * tf.reduce_max(tf.abs(values))
        values = values + tf.where(
            tf.equal(values, 0), tf.zeros_like(values), scale * tf.sign(tf.gather(draws, run))
        )
        if isinstance(gradient, tf.IndexedSlices):
            return tf.IndexedSlices(values, gradient.indices, gradient.dense_shape)
        return values

    def apply_gradients(self, grads_and_vars, *args, **kwargs):
        run = tf.compat.v1.placeholder_with_default(0, [], name="noise_run")
        chosen.append(run)
        pairs = [
            (g if g is None else noisy(g, i, run), v)
            for i, (g, v) in enumerate(list(grads_and_vars))
        ]
        return original(self, pairs, *args, **kwargs)

    Optimizer.apply_gradients = apply_gradients
    try:
        yield
    finally:
        Optimizer.apply_gradients = original


def gap(new, old) -> np.ndarray:
    """|new - old| element by element, in float32 (as a stored envelope), NaN apart as infinity."""
    with np.errstate(invalid="ignore"):
        found = np.abs(np.asarray(new, np.float64) - np.asarray(old, np.float64))
    return np.nan_to_num(found, nan=np.inf).astype(np.float32)


def rerun(
    old: OldProgram,
    record: Record,
    dtype: str | None,
    random: str,
    seed: int,
    initial: list[np.ndarray],
    threads: int | None = None,
    program: Program | None = None,
    chosen: dict | None = None,
    first_batch_only: bool = False,
) -> dict[str, np.ndarray]:
    """The program run again from ``initial``: |difference| from ``record``, element by
    element, of the outputs (``outputs``) and each gradient (``grad/i``) on the first batch,
    the loss before each update
    (``loss``), and every trained and state variable after it (``after/step/i``).

    The graph is built anew, or ``program``'s is run again in a new session, which starts every
    variable and every random op as a new graph would; ``chosen`` is fed at every step (which
    run's gradient noise a graph of ``built(noise=...)`` takes). ``first_batch_only``: the
    outputs, the gradients and the loss of the first batch alone, no step."""
    import tensorflow as tf

    v1 = tf.compat.v1
    if program is None:
        program, _ = built(old, record, dtype, random, seed, threads)
    names = [name_of(v) for v in program.trained], [name_of(v) for v in program.state]
    if names != (record.names, record.state_names):
        raise ValueError(f"{old.path}: the program made other variables when it ran again")
    kinds = record.meta.get("kinds")
    feeds = program.feeds(record.batches, "the record's batches", kinds)
    feeds = [{**step_feed, **(chosen or {})} for step_feed in feeds]
    found: dict[str, np.ndarray] = {}
    losses = []
    with program.graph.as_default(), v1.Session(config=program.config) as session:
        started(session, program, record, program.trained, initial)
        outputs = program.built.get("outputs")
        fetched = program.unchanged(
            session,
            {
                "grads": program.grads,
                "outputs": [] if outputs is None else [outputs],
                "loss": program.built["loss"],
            },
            feeds[0],
        )
        for i, (g, r) in enumerate(zip(fetched["grads"], record.grads)):
            found[f"grad/{i}"] = gap(g, r)
        if fetched["outputs"] and record.outputs is not None:
            found["outputs"] = gap(fetched["outputs"][0], record.outputs)
        if first_batch_only:
            found["loss"] = gap([fetched["loss"]], record.losses[:1])
            return found
        for step, (loss, values) in enumerate(program.train(session, feeds, kinds)):
            losses.append(loss)
            old = record.after[step] + record.state_after[step]
            for i, (a, b) in enumerate(zip(values, old)):
                found[f"after/{step}/{i}"] = gap(a, b)
    found["loss"] = gap(losses, record.losses)
    return found


def started(session, program: Program, record: Record, variables: list, values: list) -> None:
    """``program``'s variables in ``session`` at their start, those a script restored before its
    first step at the record's restored values, then ``variables`` at ``values``."""
    program.initialize(session)
    for variable in program.variables:
        if name_of(variable) in record.restored:
            variable.load(record.restored[name_of(variable)], session)
    for variable, value in zip(variables, values):
        variable.load(value, session)


def built(
    old: OldProgram,
    record: Record,
    dtype: str | None,
    random: str,
    seed: int,
    threads: int | None = None,
    noise: int | None = None,
) -> tuple[Program, list]:
    """The program's graph as ``rerun`` runs it, with the gradient noise of ``noise`` runs when
    given, and the placeholders that choose the run ([] where no ``tf.compat.v1.train``
    optimizer applies the gradients: no noise)."""
    from backprop_suite.migration.random_ops import random_mode
    from backprop_suite.migration.tf1.recording import build_program

    chosen: list = []
    noisy = rounding_noise(noise, chosen) if noise is not None else contextlib.nullcontext()
    with random_mode(random), noisy:
        program = build_program(
            old, dtype, seed, record.state_names, threads, record.meta.get("turns")
        )
    return program, chosen


def widest(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Element by element, the largest of several runs' differences."""
    return {key: np.max([run[key] for run in runs], axis=0) for key in runs[0]}


def spreads(
    old: OldProgram,
    record: Record,
    dtype: str | None,
    random: str,
    seed: int,
    nudges: int,
    threads: int | None = None,
    first_batch_only: bool = False,
) -> dict[str, dict[str, np.ndarray]]:
    """The child's sources: with ``nudges`` > 0, ``NUDGED`` and ``NOISE`` over that many runs
    each; otherwise one run as the record's, on ``threads`` threads when given. Of the first
    batch alone, ``NOISE`` (which moves only the updates) is not run."""
    same = (old, record, dtype, random, seed)
    only = {"first_batch_only": first_batch_only}
    if nudges == 0:
        return {PLAIN: rerun(*same, record.initial, threads, **only)}
    rng = np.random.default_rng(0)
    found: dict[str, list] = {NUDGED: []}
    unmoved, _ = built(*same, threads)  # one graph for every nudged run: only the weights differ
    for _ in range(nudges):
        moved = [nudge(value, rng) for value in record.initial]
        found[NUDGED].append(rerun(*same, moved, threads, program=unmoved, **only))
    if first_batch_only:
        return {source: widest(runs) for source, runs in found.items()}
    noisy, chosen = built(*same, threads, noise=nudges)  # one graph for every noisy run
    if chosen:
        found[NOISE] = [
            rerun(*same, record.initial, threads, noisy, {run: k for run in chosen})
            for k in range(nudges)
        ]
    return {source: widest(runs) for source, runs in found.items()}


def save_spreads(path: str | os.PathLike, found: dict[str, dict[str, np.ndarray]]) -> None:
    np.savez(
        path, **{f"{source}|{key}": v for source, run in found.items() for key, v in run.items()}
    )


def load_spreads(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    found: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as stored:
        for name in stored.files:
            source, key = name.split("|", 1)
            found.setdefault(source, {})[key] = stored[name]
    return found
