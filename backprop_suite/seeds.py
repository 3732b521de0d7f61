"""Global seeds set for a while and then put back, so that a call of the library leaves the
process's random state as it found it: Python's ``random``, NumPy's global generator,
TensorFlow's global seed (eager and the default graph's) and Keras's global seed."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

KERAS_SEED = "global_random_seed"  # keras.utils.set_random_seed's global attribute
KERAS_GENERATOR = "global_seed_generator"  # the generator it drops, remade from the seed


@contextmanager
def seeded(seed: int | None = None) -> Iterator[None]:
    """Inside: every global seed is ``seed`` (``set_seed``); ``None`` sets none, for code that
    sets its own. After, each is what it was before."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    tensorflow_state = tensorflow_seeds()
    keras_before = keras_seeds()
    try:
        if seed is not None:
            set_seed(seed)
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if "tensorflow" in sys.modules:
            _put_back_tensorflow_seeds(*tensorflow_state)
        if "keras" in sys.modules:
            _put_back_keras_seeds(keras_before)


def set_seed(seed: int) -> None:
    """Every global seed ``seed``: Keras's ``set_random_seed`` where Keras is imported, else
    Python's, NumPy's and TensorFlow's."""
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
        return
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)


def tensorflow_seeds() -> tuple[int | None, int | None]:
    """The eager and the default graph's global seed (None for each before TensorFlow's
    import)."""
    if "tensorflow" not in sys.modules:
        return None, None
    import tensorflow as tf
    from tensorflow.python.eager import context

    return context.global_seed(), tf.compat.v1.get_default_graph().seed


def _put_back_tensorflow_seeds(eager: int | None, graph: int | None) -> None:
    import tensorflow as tf
    from tensorflow.python.eager import context

    context.set_global_seed(eager)
    tf.compat.v1.get_default_graph().seed = graph


def keras_seeds() -> dict:
    """Keras's global seed and seed generator (None for each before Keras's import)."""
    if "keras" not in sys.modules:
        return dict.fromkeys((KERAS_SEED, KERAS_GENERATOR))
    from keras.src.backend.common import global_state

    return {name: global_state.get_global_attribute(name) for name in (KERAS_SEED, KERAS_GENERATOR)}


def _put_back_keras_seeds(state: dict) -> None:
    from keras.src.backend.common import global_state

    for name, value in state.items():
        global_state.set_global_attribute(name, value)
