"""The old program as the check runs it: ``Program`` (a built graph, what it trains and where it
starts), the batches it is fed, and the names of its variables."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backprop_suite.core import load_npz
from backprop_suite.core.validation import numeric_array, require_finite


def read_data(path: str | Path, steps: int) -> list[dict[str, np.ndarray]]:
    """``--data FILE.npz``: one array per feed name, stacked over batches on axis 0, checked as
    ``take_batches`` checks them."""
    arrays = load_npz(path, "--data")
    counts = {name: len(value) for name, value in arrays.items() if np.ndim(value) > 0}
    if not arrays or len(set(counts.values())) != 1 or len(counts) != len(arrays):
        raise ValueError(
            f"--data {path}: every array must stack the batches on axis 0, found lengths {counts}"
        )
    count = next(iter(counts.values()))
    batches = [{name: value[i] for name, value in arrays.items()} for i in range(count)]
    return take_batches(batches, steps, f"--data {path}")


def take_batches(batches: Iterable, steps: int, source: str) -> list[dict]:
    """The first ``steps`` batches, starting again from the first when there are fewer; each a
    dict of finite numbers. Non-finite data cannot be compared: a ``ValueError`` names the
    batch, the array and the index."""
    try:
        taken = list(itertools.islice(batches, steps))
    except Exception as error:
        raise ValueError(f"{source} raised {type(error).__name__}: {error}") from None
    if not taken or not all(isinstance(batch, dict) for batch in taken):
        raise ValueError(f"{source} must give at least one batch, each a dict name -> array")
    for step, batch in enumerate(taken):
        for name, value in batch.items():
            what = f"{source}: batch {step}, {name!r}"
            require_finite(what, numeric_array(what, value))
    return list(itertools.islice(itertools.cycle(taken), steps))


def feed(feeds: dict, batch: dict, step: int, source: str) -> dict:
    """The feed dict of ``batch``; a ``ValueError`` naming ``source``, the batch and the feed for
    names or shapes that the program's placeholders do not take. ``name:0`` is ``name``."""
    batch = {
        key.removesuffix(":0") if key not in feeds and key.endswith(":0") else key: value
        for key, value in batch.items()
    }
    if set(batch) != set(feeds):
        raise ValueError(
            f"{source}: batch {step} gives {sorted(batch)}, but the TF1 program's feeds are "
            f"{sorted(feeds)}"
        )
    fed = {}
    for name, value in batch.items():
        array = np.asarray(value, feeds[name].dtype.as_numpy_dtype)
        if not feeds[name].shape.is_compatible_with(array.shape):
            raise ValueError(
                f"{source}: batch {step}, {name!r} has shape {array.shape}, but the feed "
                f"{name!r} ({feeds[name].name}) takes {tuple(feeds[name].shape.as_list())}"
            )
        fed[feeds[name]] = array
    return fed


@dataclass
class Program:
    """``tf1_program()`` built in a graph of its own: its dict, the variables its optimizer
    trains that a gradient of the loss reaches (``trained``) with those gradients, the other
    trainable ones (``untrained``: step counters, which TF1 makes trainable by default, and
    those the optimizer's var_list leaves out, named in ``excluded``), and the other variables
    the port's ``WEIGHT_MAP`` names (``kept``: moving statistics, counters).

    A script that trains several train ops in turn (a GAN's two) has one ``turns`` entry for
    each, in the order it first ran them: ``{"train_op", "loss", "feeds"}`` (the names of the
    feeds its steps read); ``built`` holds the first's."""

    graph: object
    built: dict
    trained: list
    grads: list
    untrained: list
    kept: list
    config: object
    variables: list  # every variable of the graph
    start: dict | None = None  # variable name -> value where every run starts it
    excluded: list = field(default_factory=list)
    turns: list = field(default_factory=list)

    def initialize(self, session) -> None:
        """Every variable at its start: the value in ``start``, or its initializer's."""
        import tensorflow as tf

        v1 = tf.compat.v1
        start = self.start or {}
        session.run([v1.local_variables_initializer(), v1.tables_initializer()])
        if any(name_of(v) not in start for v in self.variables):
            session.run(v1.global_variables_initializer())
        for variable in self.variables:
            if name_of(variable) in start:
                variable.load(start[name_of(variable)], session)

    def unchanged(self, session, fetches, feed_dict):
        """``fetches`` run on ``feed_dict`` with every variable put back as it was after: a
        loss that depends on update ops (slim's ``create_train_op`` wraps it in their control
        dependencies) moves BatchNorm's moving statistics when it is only read."""
        before = session.run(self.variables)
        found = session.run(fetches, feed_dict)
        for variable, value in zip(self.variables, before):
            variable.load(value, session)
        return found

    @property
    def state(self) -> list:
        """What is compared but not trained: the untrained variables, then the kept ones."""
        return self.untrained + self.kept

    def turn(self, kind: int) -> dict:
        """The train op, loss and feeds of the steps of turn ``kind`` (0 for a single one)."""
        if not self.turns:
            return {**self.built, "feeds": list(self.built["feeds"])}
        return self.turns[kind]

    def feeds(self, batches: list[dict], source: str, kinds: list[int] | None = None) -> list[dict]:
        """The feed dict of each batch; ``kinds``: the turn each step takes (all 0 if None)."""
        every = self.built["feeds"]
        fed = []
        for step, batch in enumerate(batches):
            names = self.turn(kinds[step] if kinds else 0)["feeds"]
            fed.append(feed({name: every[name] for name in names}, batch, step, source))
        return fed

    def train(
        self, session, feeds: list[dict], kinds: list[int] | None = None
    ) -> Iterator[tuple[np.ndarray, list]]:
        """Run each step's train op on its feed in turn: the loss before the update (fetched
        with it) and the trained and state variables after it."""
        for step, step_feed in enumerate(feeds):
            turn = self.turn(kinds[step] if kinds else 0)
            loss = session.run([turn["train_op"], turn["loss"]], step_feed)[1]
            yield loss, session.run(self.trained + self.state)


def name_of(variable) -> str:
    return variable.name.split(":")[0]
