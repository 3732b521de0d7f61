"""The session hooks under ``tf.estimator``: TensorFlow's own ``tf.compat.v1.train`` classes,
which TF 2.21 still has, re-exported by the names the real ``tf.estimator`` gave them; and the
hook the ``Estimator`` adds for an ``input_fn`` that returns a ``tf.data.Dataset``."""

from __future__ import annotations

import tensorflow as tf

NAMES = (
    "CheckpointSaverHook",
    "CheckpointSaverListener",
    "FeedFnHook",
    "FinalOpsHook",
    "GlobalStepWaiterHook",
    "LoggingTensorHook",
    "NanLossDuringTrainingError",
    "NanTensorHook",
    "ProfilerHook",
    "SecondOrStepTimer",
    "SessionRunArgs",
    "SessionRunContext",
    "SessionRunHook",
    "SessionRunValues",
    "StepCounterHook",
    "StopAtStepHook",
    "SummarySaverHook",
)


def hooks() -> dict[str, type]:
    """Name -> TensorFlow's class, for each of ``NAMES``."""
    return {name: getattr(tf.compat.v1.train, name) for name in NAMES}


class DatasetInitializerHook(tf.compat.v1.train.SessionRunHook):
    """Runs an initializable iterator's initializer once the session exists."""

    def __init__(self, iterator) -> None:
        self.iterator = iterator

    def begin(self) -> None:
        self.initializer = self.iterator.initializer

    def after_create_session(self, session, coord) -> None:
        session.run(self.initializer)


class EvalCounterHook(tf.compat.v1.train.SessionRunHook):
    """Stops an evaluation after ``steps`` batches (None: at the input's end), counted by
    ``counter``, the evaluation step's value after each batch."""

    def __init__(self, steps: int | None, counter) -> None:
        self.steps, self.counter = steps, counter

    def before_run(self, run_context) -> object:
        return tf.compat.v1.train.SessionRunArgs(self.counter)

    def after_run(self, run_context, run_values) -> None:
        if self.steps is not None and run_values.results >= self.steps:
            run_context.request_stop()
