"""Keras under ``tf.distribute`` (TensorFlow backend): what ``fit`` does for us, and what it does
not.

Built and compiled under ``strategy.scope()``, the model's weights and the optimizer's slots are
mirrored; ``fit`` splits each batch among the replicas (``experimental_distribute_dataset``)
and its optimizer sums the replicas' gradients before the update. The loss is where it stops
helping: Keras multiplies a loss reduced by ``"sum_over_batch_size"`` (its default, ``"mse"``)
by 1/N, which is the global mean only when every replica holds as many rows, and leaves a
``"sum"`` loss as it is. ``keras_impl.losses.SquaredError`` therefore divides a mean by the
global batch's element count itself (``global_sum`` of the replicas' counts), and the recorded
step loss is the replicas' shares summed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from backprop_suite.core import TrainConfig


def _replica_context():
    """TensorFlow's replica context while several replicas run a step, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def in_replicas() -> bool:
    """True inside a training step that runs on several replicas."""
    return _replica_context() is not None


def global_sum(value):
    """``value`` summed over the replicas (itself outside a data-parallel step)."""
    context = _replica_context()
    if context is None:
        return value
    import tensorflow as tf

    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def multi_worker(strategy) -> bool:
    """True for ``MultiWorkerMirroredStrategy`` (on the TensorFlow backend)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def outputs(model: keras.Model, x0):
    """The model's outputs on ``x0`` computed by a graph, as ``predict_on_batch`` and the custom
    loop compute theirs: in a float32 graph oneDNN fuses each layer's matmul, bias and activation
    into one kernel, which eager execution does not, and the two may round apart."""
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False))(x0)


def require_tensorflow(cfg: TrainConfig) -> None:
    if cfg.replicas > 1 and keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"replicas={cfg.replicas} trains through tf.distribute, on the TensorFlow backend "
            f"only, not on {keras.backend.backend()}"
        )


@contextlib.contextmanager
def scope(cfg: TrainConfig, strategy=None) -> Iterator[None]:
    """``strategy.scope()``: ``strategy``'s, else the MirroredStrategy over ``cfg.replicas``
    logical CPUs; nothing for one replica."""
    if strategy is None and cfg.replicas == 1:
        yield
        return
    from backprop_suite.distribute.devices import strategy_for

    with strategy_for(cfg.replicas, strategy).scope():
        yield
