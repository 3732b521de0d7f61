"""What a TF1 program imports that TensorFlow 2 no longer has, put back for as long as the
program runs: ``tf.estimator`` (ours) and ``tf.contrib`` (``tf_slim``'s)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def stand_ins() -> Iterator[None]:
    from backprop_suite.migration.tf1 import contrib, estimator

    with estimator.installed(), contrib.installed():
        yield
