"""The step batches as Keras input, in the fastest form each backend documents.

TensorFlow: a ``tf.data.Dataset`` (``fit`` reads it inside its compiled loop). JAX and PyTorch: a
``keras.utils.PyDataset``, Keras's backend-neutral input. Either way ``fit`` sees exactly
``backprop_suite.core.step_batches``, one batch per step, in order.
"""

from __future__ import annotations

import keras
import numpy as np

from backprop_suite.core import TrainConfig, step_batches


class StepBatches(keras.utils.PyDataset):
    """Batch ``i`` of ``step_batches``, for ``fit(..., epochs=1, steps_per_epoch=cfg.steps)``."""

    def __init__(self, x0: np.ndarray, y0: np.ndarray, cfg: TrainConfig) -> None:
        super().__init__()
        self.x0, self.y0, self.rows = x0, y0, step_batches(len(x0), cfg)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows[index]
        return self.x0[rows], self.y0[rows]


def tf_dataset(x0: np.ndarray, y0: np.ndarray, cfg: TrainConfig):
    """A ``tf.data.Dataset`` that yields exactly ``step_batches``, one batch per step, in order.

    Built here rather than by ``fit`` from NumPy arrays: Keras's array adapter builds its own
    input pipeline again on every call (about 50 ms of each call in a cProfile of this function's
    caller, against about 100 ms for the 500 steps)."""
    import tensorflow as tf

    batches = step_batches(len(x0), cfg)
    sizes = {len(batch) for batch in batches}
    if len(sizes) == 1:
        size = sizes.pop()
        # one element per batch, cut here once: .batch() over single rows was far slower for
        # large batches (a full batch of 100,000 rows)
        epoch = batches if cfg.shuffle else batches[: -(-len(x0) // size)]
        rows = np.concatenate(epoch).reshape(len(epoch), size)
        dataset = tf.data.Dataset.from_tensor_slices((x0[rows], y0[rows]))
        return dataset if cfg.shuffle else dataset.repeat()  # unshuffled: every epoch alike
    return tf.data.Dataset.from_generator(
        lambda: ((x0[batch], y0[batch]) for batch in batches),
        output_signature=(
            tf.TensorSpec([None, x0.shape[1]], cfg.dtype),
            tf.TensorSpec([None, y0.shape[1]], cfg.dtype),
        ),
    )


def training_data(x0: np.ndarray, y0: np.ndarray, cfg: TrainConfig):
    """The step batches in the form the running backend reads fastest."""
    if keras.backend.backend() == "tensorflow":
        return tf_dataset(x0, y0, cfg)
    return StepBatches(x0, y0, cfg)
