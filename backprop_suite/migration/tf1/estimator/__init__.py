"""TF1's ``tf.estimator`` for TensorFlow >= 2.16, which has none: an Estimator API of our own
that builds the graph the real one builds and trains it in a ``Session``, so that an Estimator
program's steps are ordinary TF1 training steps for the migration check.

``installed()`` puts it in place for as long as a TF1 program runs: ``tf.estimator`` and
``tf.compat.v1.estimator`` (and their ``sys.modules`` entries, with ``inputs``, ``export``,
``experimental`` and ``tpu`` under them), wherever TensorFlow has no ``estimator`` of its own.
What it refuses is one ``NotImplementedError`` line that says so (``refusals.py``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

ABSENT = object()


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """``tf.estimator`` is ours while inside, where TensorFlow has none; on leaving, every
    attribute and ``sys.modules`` entry is as it was found (removed where it did not exist)."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.estimator.api import build

    owners = {"tensorflow": tf, "tensorflow.compat.v1": tf.compat.v1}
    set_on, entries = [], {}
    try:
        for prefix, owner in owners.items():
            if hasattr(owner, "estimator"):
                continue
            module = build(f"{prefix}.estimator")
            modules = {f"{prefix}.estimator": module}
            for name in ("inputs", "export", "experimental", "tpu"):
                modules[f"{prefix}.estimator.{name}"] = getattr(module, name)
            for name, value in modules.items():
                if name not in entries:
                    entries[name] = sys.modules.get(name, ABSENT)
                sys.modules[name] = value
            owner.estimator = module
            set_on.append(owner)
        yield
    finally:
        for owner in set_on:
            if hasattr(owner, "estimator"):
                delattr(owner, "estimator")
        for name, before in entries.items():
            if before is ABSENT:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = before
