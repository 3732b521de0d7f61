"""``TrainSpec``, ``EvalSpec`` and ``train_and_evaluate``, run locally as the real local executor
runs them: ``train(max_steps=...)`` with a saving listener that evaluates after each checkpoint
but the first (at most once per ``throttle_secs``) and once more at the end if the last
checkpoint was not evaluated; the result is ``(metrics of the last evaluation, export
results)``. Exporters are called after each evaluation (and ours refuse to export)."""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Callable

import tensorflow as tf

from backprop_suite.migration.tf1.estimator.refusals import not_covered

v1 = tf.compat.v1


def callable_input_fn(input_fn) -> None:
    if not callable(input_fn):
        raise TypeError(f"`input_fn` must be callable, given: {input_fn}")


def checked_hooks(hooks) -> tuple:
    hooks = tuple(hooks or [])
    for hook in hooks:
        if not isinstance(hook, v1.train.SessionRunHook):
            raise TypeError(f"All hooks must be `SessionRunHook` instances, given: {hook}")
    return hooks


class TrainSpec(
    collections.namedtuple("TrainSpec", ["input_fn", "max_steps", "hooks", "saving_listeners"])
):
    """The training half of ``train_and_evaluate``: its input and how many steps in all."""

    def __new__(cls, input_fn: Callable, max_steps=None, hooks=None, saving_listeners=None):
        callable_input_fn(input_fn)
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        listeners = tuple(saving_listeners or [])
        for listener in listeners:
            if not isinstance(listener, v1.train.CheckpointSaverListener):
                raise TypeError(
                    "All saving_listeners must be `CheckpointSaverListener` instances, given: "
                    f"{listener}"
                )
        return super().__new__(cls, input_fn, max_steps, checked_hooks(hooks), listeners)


class EvalSpec(
    collections.namedtuple(
        "EvalSpec",
        ["input_fn", "steps", "name", "hooks", "exporters", "start_delay_secs", "throttle_secs"],
    )
):
    """The evaluation half of ``train_and_evaluate``: its input, how many batches, how often."""

    def __new__(
        cls,
        input_fn: Callable,
        steps=100,
        name=None,
        hooks=None,
        exporters=None,
        start_delay_secs=120,
        throttle_secs=600,
    ):
        callable_input_fn(input_fn)
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be string, given: {name}")
        if start_delay_secs < 0:
            raise ValueError(f"Must specify start_delay_secs >= 0, given: {start_delay_secs}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        if exporters is None:
            exporters = ()
        elif not isinstance(exporters, list | tuple):
            exporters = (exporters,)
        return super().__new__(
            cls,
            input_fn,
            steps,
            name,
            checked_hooks(hooks),
            tuple(exporters),
            start_delay_secs,
            throttle_secs,
        )


class Evaluator:
    """Evaluates the latest checkpoint when it is new, then exports it."""

    def __init__(self, estimator, eval_spec: EvalSpec, max_steps) -> None:
        self.estimator, self.spec, self.max_steps = estimator, eval_spec, max_steps
        self.previous = None
        self.metrics, self.exports = None, []

    def evaluate_and_export(self) -> None:
        latest = self.estimator.latest_checkpoint()
        if not latest or latest == self.previous:
            return
        self.metrics = self.estimator.evaluate(
            input_fn=self.spec.input_fn,
            steps=self.spec.steps,
            name=self.spec.name,
            checkpoint_path=latest,
            hooks=self.spec.hooks,
        )
        final = bool(self.max_steps) and self.metrics[v1.GraphKeys.GLOBAL_STEP] >= self.max_steps
        base = os.path.join(self.estimator.model_dir, "export")
        self.exports = [
            exporter.export(
                estimator=self.estimator,
                export_path=os.path.join(base, exporter.name),
                checkpoint_path=latest,
                eval_result=self.metrics,
                is_the_final_export=final,
            )
            for exporter in self.spec.exporters
        ]
        self.previous = latest


class EvaluateAfterSave(v1.train.CheckpointSaverListener):
    """Evaluates after each checkpoint but the first, throttled, and at the end."""

    def __init__(self, evaluator: Evaluator, throttle_secs: float) -> None:
        self.evaluator, self.throttle_secs = evaluator, throttle_secs

    def begin(self) -> None:
        self.timer = v1.train.SecondOrStepTimer(every_secs=self.throttle_secs)
        self.first = True

    def after_save(self, session, global_step_value) -> None:
        if self.first:
            self.first = False
            return
        if self.timer.should_trigger_for_step(global_step_value):
            self.timer.update_last_triggered_step(global_step_value)
            self.evaluator.evaluate_and_export()

    def end(self, session, global_step_value) -> None:
        if global_step_value != self.timer.last_triggered_step():
            self.timer.update_last_triggered_step(global_step_value)
            self.evaluator.evaluate_and_export()


def train_and_evaluate(estimator, train_spec: TrainSpec, eval_spec: EvalSpec) -> tuple:
    """Train to ``train_spec.max_steps``, evaluating on ``eval_spec`` as checkpoints are saved;
    (the last metrics, the export results)."""
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(
            f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: {type(train_spec)}"
        )
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(
            f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: {type(eval_spec)}"
        )
    if json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster"):
        raise not_covered("train_and_evaluate with a TF_CONFIG cluster", "it runs locally")
    evaluator = Evaluator(estimator, eval_spec, train_spec.max_steps)
    listener = EvaluateAfterSave(evaluator, eval_spec.throttle_secs)
    estimator.train(
        input_fn=train_spec.input_fn,
        max_steps=train_spec.max_steps,
        hooks=list(train_spec.hooks),
        saving_listeners=list(train_spec.saving_listeners) + [listener],
    )
    return evaluator.metrics, evaluator.exports
