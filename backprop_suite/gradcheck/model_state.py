"""A user's model left exactly as it was given: every variable (weights, BatchNorm's moving
statistics, seed generators' states) and Keras's global seed generator put back after a call
that may move them (a forward pass in training mode)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def global_seed_state():
    """Keras's global seed generator's state variable, where one exists (not made here)."""
    from keras.src.backend.common import global_state

    generator = global_state.get_global_attribute("global_seed_generator")
    return None if generator is None else generator.state


@contextmanager
def kept_as_it_was(model) -> Iterator[None]:
    variables = list(model.variables)
    seed_state = global_seed_state()
    if seed_state is not None:
        variables.append(seed_state)
    saved = [np.array(v.numpy(), copy=True) for v in variables]
    try:
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)
