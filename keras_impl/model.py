"""The seed's network as a ``keras.Sequential`` of ``Dense`` layers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import keras
import numpy as np

from backprop_suite.core import TrainConfig
from keras_impl.distributed import global_sum, multi_worker
from keras_impl.exact_ops import activation


@contextlib.contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Keras builds its loss wrapper, loss tracker and learning-rate variable in ``floatx``, and
    ``fit`` casts NumPy data to it: a float64 run needs all of them in float64, or its data,
    losses and rate are rounded to float32."""
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


class LossRecordingSequential(keras.Sequential):
    """A Sequential that keeps the loss Keras computes at each training step, before the update.

    ``fit`` with ``steps_per_execution`` reports to callbacks only once per execution, and its
    logged ``loss`` is a running mean; this records every step's own value (under
    ``tf.distribute``, the replicas' shares summed)."""

    def __init__(self, layers: list, steps: int, dtype: str, **kwargs) -> None:
        super().__init__(layers, **kwargs)
        self.step_losses = keras.Variable(
            keras.ops.zeros([steps], dtype=dtype), trainable=False, name="step_losses"
        )
        # its own count: inside JAX's stateless training step the optimizer's is out of reach
        self.step = keras.Variable(0, dtype="int32", trainable=False, name="step")

    def restart(self) -> None:
        """Forget the recorded losses before a new run."""
        self.step_losses.assign(keras.ops.zeros(self.step_losses.shape, self.step_losses.dtype))
        self.step.assign(0)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 under tf.distribute takes the first batch and averages it over the replicas
        # before it asks whether anything is left to build; a batch the replicas split unevenly
        # fails there (AddN of [3,2] and [2,2]). compiled_model builds everything first.
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is not None and self.built and self._compile_loss.built:
            return
        super()._maybe_symbolic_build(iterator, data_batch)

    def train_step(self, *args):
        logs = super().train_step(*args)
        if multi_worker(getattr(self, "_distribute_strategy", None)):
            # Keras 3.15 averages fit's logs over the workers along axis 0, which a scalar has
            # not: "Invalid reduction dimension 0 for input with 0 dimensions"
            # (tensorflow/tensorflow#72388); as vectors of one they average
            logs = {name: keras.ops.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if training:
            value = keras.ops.cast(global_sum(loss), self.step_losses.dtype)
            value = keras.ops.reshape(value, [1])
            index = keras.ops.reshape(keras.ops.convert_to_tensor(self.step), [1, 1])
            self.step_losses.assign(keras.ops.scatter_update(self.step_losses, index, value))
            self.step.assign(self.step + 1)
        return loss


def build_model(params: Mapping[str, np.ndarray], cfg: TrainConfig) -> LossRecordingSequential:
    """Dense layers ``layers[1:]`` with ``cfg.activation``, holding ``params`` via set_weights."""
    layers = [keras.Input(shape=(cfg.layers[0],), dtype=cfg.dtype)]
    for layer, width in enumerate(cfg.layers[1:], start=1):
        dense = keras.layers.Dense(
            width, activation=activation(cfg.activation), dtype=cfg.dtype, name=f"layer{layer}"
        )
        layers.append(dense)
    model = LossRecordingSequential(layers, steps=cfg.steps, dtype=cfg.dtype)
    set_params(model, params, cfg)
    return model


def set_params(model: keras.Model, params: Mapping[str, np.ndarray], cfg: TrainConfig) -> None:
    """Load the weights (the trainable variables only: the model also holds its step losses)."""
    for variable, key in zip(model.trainable_variables, cfg.param_shapes()):
        variable.assign(params[key])


def get_params(model: keras.Model, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """The model's weights back in the interchange format."""
    return {
        key: np.array(variable.numpy())
        for key, variable in zip(cfg.param_shapes(), model.trainable_variables)
    }
