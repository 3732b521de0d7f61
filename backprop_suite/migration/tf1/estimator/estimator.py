"""``Estimator``: builds the graph the real ``tf.estimator.Estimator`` builds for a ``model_fn`` and
trains, evaluates and predicts with it in a ``Session``.

Each call builds a fresh ``tf.Graph`` with the graph seed ``RunConfig(tf_random_seed=)``, creates
the global step (and its read, as the real one does) before calling ``input_fn`` (under
``/cpu:0``) and then ``model_fn`` with whichever of ``features, labels, mode, params, config``
it takes. Training runs in a ``HookedSession`` (``session.py``) with the hooks the real one
adds (a ``StopAtStepHook`` for ``steps``/``max_steps``, a ``NanTensorHook`` and a
``LoggingTensorHook`` of the loss and step, the ``CheckpointSaverHook`` of the config, a
``StepCounterHook`` and a ``SummarySaverHook``) and the user's: it restores the latest
checkpoint in ``model_dir``, each step is one ``Session.run`` of ``[train_op, loss]`` and the
hooks' fetches, the input's end stops it, and a checkpoint is saved at the end. Evaluation
restores the latest checkpoint and returns the metrics' values with ``loss`` (the mean of the
batches' losses) and ``global_step``; prediction yields the predictions one example (or one
batch) at a time. A SavedModel export is refused."""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import NoReturn

import tensorflow as tf
from tensorflow.python.training import training_util
from tensorflow.python.util import function_utils

from backprop_suite.migration.tf1.estimator.hooks import DatasetInitializerHook, EvalCounterHook
from backprop_suite.migration.tf1.estimator.refusals import not_covered
from backprop_suite.migration.tf1.estimator.run_config import RunConfig, default_session_config
from backprop_suite.migration.tf1.estimator.session import HookedSession
from backprop_suite.migration.tf1.estimator.spec import LOSS_METRIC_KEY, EstimatorSpec, ModeKeys
from backprop_suite.migration.tf1.estimator.warm_start import settings, warm_start

v1 = tf.compat.v1
MODEL_FN_ARGS = {"features", "labels", "mode", "params", "self", "config"}


def verify_model_fn_args(model_fn: Callable, params) -> None:
    args = set(function_utils.fn_args(model_fn))
    if "features" not in args:
        raise ValueError(f"model_fn ({model_fn}) must include features argument.")
    if params is not None and "params" not in args:
        raise ValueError(
            f"model_fn ({model_fn}) does not include params argument, but params ({params}) is "
            "passed to Estimator."
        )
    unexpected = sorted(args - MODEL_FN_ARGS)
    if unexpected:
        raise ValueError(f"model_fn ({model_fn}) has following not expected args: {unexpected}")


def configured(config, model_dir) -> RunConfig:
    """``config`` with ``model_dir`` (a new temporary folder where neither gives one) and the
    default session configuration where it has none."""
    if config is None:
        config = RunConfig()
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be an instance of `RunConfig`, but provided {config}.")
    if config.session_config is None:
        config = config.replace(session_config=default_session_config())
    model_dir = os.fspath(model_dir) if model_dir is not None else None
    if model_dir is not None and config.model_dir is not None and config.model_dir != model_dir:
        raise ValueError(
            "`model_dir` are set both in constructor and `RunConfig`, but with different values. "
            f"In constructor: '{model_dir}', in `RunConfig`: '{config.model_dir}' "
        )
    if model_dir:
        return config.replace(model_dir=model_dir)
    if config.model_dir is None:
        folder = tempfile.mkdtemp()
        v1.logging.warning("Using temporary folder as model directory: %s", folder)
        return config.replace(model_dir=folder)
    return config


def checked_hooks(hooks) -> list:
    hooks = list(hooks or [])
    for hook in hooks:
        if not isinstance(hook, v1.train.SessionRunHook):
            raise TypeError(f"Hooks must be a SessionRunHook, given: {hook}")
    return hooks


def checked_listeners(listeners) -> list:
    listeners = list(listeners or [])
    for listener in listeners:
        if not isinstance(listener, v1.train.CheckpointSaverListener):
            raise TypeError(
                f"saving_listeners must be a list of CheckpointSaverListener, given: {listener}"
            )
    return listeners


def step_in_checkpoint(model_dir: str) -> int:
    latest = tf.train.latest_checkpoint(model_dir)
    if not latest:
        return 0
    return int(v1.train.NewCheckpointReader(latest).get_tensor(v1.GraphKeys.GLOBAL_STEP))


def split_input(result) -> tuple[object, object, list]:
    """``input_fn``'s result as (features, labels, hooks): a dataset through an initializable
    iterator, a pair as (features, labels), anything else as features."""
    hooks = []
    if isinstance(result, tf.data.Dataset):
        iterator = v1.data.make_initializable_iterator(result)
        hooks.append(DatasetInitializerHook(iterator))
        result = iterator.get_next()
    if isinstance(result, list | tuple):
        if len(result) != 2:
            raise ValueError("input_fn should return (features, labels) as a len 2 tuple.")
        return result[0], result[1], hooks
    return result, None, hooks


def metric_ops(spec: EstimatorSpec) -> tuple[object, dict]:
    """The EVAL spec's metrics with the mean loss: the group of their updates and their values
    by name."""
    metrics = dict(spec.eval_metric_ops)
    if LOSS_METRIC_KEY in metrics:
        raise ValueError(
            f'Metric with name "{LOSS_METRIC_KEY}" is not allowed, because Estimator already '
            "defines a default metric with the same name."
        )
    metrics[LOSS_METRIC_KEY] = v1.metrics.mean(spec.loss)
    names = sorted(metrics)
    return tf.group(*[metrics[n][1] for n in names]), {n: metrics[n][0] for n in names}


def write_summary(folder: str, values: dict, step) -> None:
    """The scalar ``values`` as an event file in ``folder``, at ``step`` (with the default
    graph, the evaluation's, as the real one writes it)."""
    summary = v1.Summary()
    for name, value in sorted(values.items()):
        if name == v1.GraphKeys.GLOBAL_STEP or isinstance(value, bytes):
            continue
        if isinstance(value, float | int) or getattr(value, "size", 0) == 1:
            summary.value.add(tag=name, simple_value=float(value))
    writer = v1.summary.FileWriterCache.get(folder)
    writer.add_summary(summary, int(step))
    writer.flush()


def batch_length(values: dict) -> int:
    length = None
    for key, value in values.items():
        length = length or value.shape[0]
        if value.shape[0] != length:
            raise ValueError(
                f"Batch length of predictions should be same. {key} has different batch length "
                "than others."
            )
    return length


class Estimator:
    """TF1's ``tf.estimator.Estimator`` (see the module's docstring)."""

    def __init__(
        self,
        model_fn: Callable,
        model_dir=None,
        config: RunConfig | None = None,
        params: dict | None = None,
        warm_start_from=None,
    ) -> None:
        self._config = configured(config, model_dir)
        self._model_dir = self._config.model_dir
        self._session_config = self._config.session_config
        if model_fn is None:
            raise ValueError("model_fn must be provided to Estimator.")
        verify_model_fn_args(model_fn, params)
        self._model_fn = model_fn
        self._params = copy.deepcopy(params or {})
        self._warm_start = settings(warm_start_from)

    @property
    def model_dir(self) -> str:
        return self._model_dir

    @property
    def config(self) -> RunConfig:
        return copy.deepcopy(self._config)

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    @property
    def model_fn(self) -> Callable:
        def public_model_fn(features, labels, mode, config):
            return self._call_model_fn(features, labels, mode, config)

        return public_model_fn

    def latest_checkpoint(self) -> str | None:
        return tf.train.latest_checkpoint(self._model_dir)

    def _checkpoint(self) -> str:
        found = self.latest_checkpoint()
        if not found:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}.")
        return found

    def get_variable_names(self) -> list[str]:
        self._checkpoint()
        return [name for name, _ in tf.train.list_variables(self._model_dir)]

    def get_variable_value(self, name: str) -> object:
        self._checkpoint()
        return tf.train.load_variable(self._model_dir, name)

    def eval_dir(self, name: str | None = None) -> str:
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    def _call_input_fn(self, input_fn: Callable, mode: str) -> object:
        args = function_utils.fn_args(input_fn)
        kwargs = {}
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = self.config
        with tf.device("/cpu:0"):
            return input_fn(**kwargs)

    def _call_model_fn(self, features, labels, mode: str, config: RunConfig) -> EstimatorSpec:
        args = function_utils.fn_args(self._model_fn)
        kwargs = {}
        if "labels" in args:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in args:
            kwargs["mode"] = mode
        if "params" in args:
            kwargs["params"] = self.params
        if "config" in args:
            kwargs["config"] = config
        spec = self._model_fn(features=features, **kwargs)
        if not isinstance(spec, EstimatorSpec):
            raise ValueError("model_fn should return an EstimatorSpec.")
        return spec

    def _new_graph(self, graph) -> None:
        """The graph seed and the global step with its read, before any input or model op."""
        v1.set_random_seed(self._config.tf_random_seed)
        v1.train.get_or_create_global_step(graph)
        training_util._get_or_create_global_step_read(graph)

    def train(
        self,
        input_fn: Callable,
        hooks=None,
        steps: int | None = None,
        max_steps: int | None = None,
        saving_listeners=None,
    ) -> Estimator:
        """Train on ``input_fn``'s batches for ``steps`` more steps, up to ``max_steps`` in all,
        or until the input ends; ``self``."""
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        if max_steps is not None and max_steps <= step_in_checkpoint(self._model_dir):
            v1.logging.info("Skipping training since max_steps has already saved.")
            return self
        hooks = checked_hooks(hooks)
        if steps is not None or max_steps is not None:
            hooks.append(v1.train.StopAtStepHook(steps, max_steps))
        listeners = checked_listeners(saving_listeners)
        with tf.Graph().as_default() as graph, graph.device(self._config.device_fn):
            self._new_graph(graph)
            result = self._call_input_fn(input_fn, ModeKeys.TRAIN)
            features, labels, input_hooks = split_input(result)
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN, self.config)
            loss = self._train_with(spec, input_hooks + hooks, listeners)
        v1.logging.info("Loss for final step: %s.", loss)
        return self

    def _train_with(self, spec: EstimatorSpec, hooks: list, listeners: list) -> object:
        config = self._config
        if not tf.train.latest_checkpoint(self._model_dir):
            warm_start(self._warm_start)
        summaries = v1.get_collection(v1.GraphKeys.SUMMARIES)
        if not any(s.op.name == "loss" for s in summaries):
            v1.summary.scalar("loss", spec.loss)
        v1.add_to_collection(v1.GraphKeys.LOSSES, spec.loss)
        global_step = v1.train.get_global_step()
        worker_hooks = list(hooks) + [v1.train.NanTensorHook(spec.loss)]
        if config.log_step_count_steps is not None:
            logged = {"loss": spec.loss, "step": global_step}
            worker_hooks.append(
                v1.train.LoggingTensorHook(logged, every_n_iter=config.log_step_count_steps)
            )
        worker_hooks.extend(spec.training_hooks)
        if not (spec.scaffold.saver or v1.get_collection(v1.GraphKeys.SAVERS)):
            saver = v1.train.Saver(
                sharded=True,
                max_to_keep=config.keep_checkpoint_max,
                keep_checkpoint_every_n_hours=config.keep_checkpoint_every_n_hours,
                defer_build=True,
                save_relative_paths=True,
            )
            v1.add_to_collection(v1.GraphKeys.SAVERS, saver)
        chief_hooks = list(spec.training_chief_hooks)
        savers = [
            h for h in worker_hooks + chief_hooks if isinstance(h, v1.train.CheckpointSaverHook)
        ]
        if (config.save_checkpoints_secs or config.save_checkpoints_steps) and not savers:
            savers = [
                v1.train.CheckpointSaverHook(
                    self._model_dir,
                    save_secs=config.save_checkpoints_secs,
                    save_steps=config.save_checkpoints_steps,
                    scaffold=spec.scaffold,
                    save_graph_def=config.checkpoint_save_graph_def,
                )
            ]
            chief_hooks.insert(0, savers[0])
        if listeners:
            if not savers:
                raise ValueError(
                    "There should be a CheckpointSaverHook to use saving_listeners. Please set "
                    "one of the RunConfig.save_checkpoints_steps or "
                    "RunConfig.save_checkpoints_secs."
                )
            for listener in listeners:
                if listener not in savers[0]._listeners:
                    savers[0]._listeners.append(listener)
        every = config.log_step_count_steps
        if every and every > 0:
            chief_hooks.append(
                v1.train.StepCounterHook(output_dir=self._model_dir, every_n_steps=every)
            )
        if config.save_summary_steps and config.save_summary_steps > 0:
            chief_hooks.append(
                v1.train.SummarySaverHook(
                    scaffold=spec.scaffold,
                    save_steps=config.save_summary_steps,
                    output_dir=self._model_dir,
                )
            )
        loss, taken = None, 0
        with HookedSession(
            chief_hooks + worker_hooks,
            spec.scaffold,
            checkpoint_dir=self._model_dir,
            config=self._session_config,
        ) as session:
            while not session.should_stop():
                taken += 1
                _, loss = session.run([spec.train_op, spec.loss])
        if taken == 0:
            v1.logging.warning(
                "Training with estimator made no steps. Perhaps input is empty or misspecified."
            )
        return loss

    def evaluate(
        self,
        input_fn: Callable,
        steps: int | None = None,
        hooks=None,
        checkpoint_path: str | None = None,
        name: str | None = None,
    ) -> dict:
        """The metrics of ``model_fn``'s EVAL spec over ``steps`` batches (or the whole input),
        with ``loss`` and ``global_step``, from the latest checkpoint (or ``checkpoint_path``)."""
        hooks = checked_hooks(hooks)
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if not checkpoint_path:
            checkpoint_path = self.latest_checkpoint()
            if not checkpoint_path:
                v1.logging.info(
                    f"Could not find trained model in model_dir: {self._model_dir}, running "
                    "initialization to evaluate."
                )
        with tf.Graph().as_default() as graph:
            self._new_graph(graph)
            result = self._call_input_fn(input_fn, ModeKeys.EVAL)
            features, labels, input_hooks = split_input(result)
            spec = self._call_model_fn(features, labels, ModeKeys.EVAL, self.config)
            update_op, values = metric_ops(spec)
            if v1.GraphKeys.GLOBAL_STEP in values:
                raise ValueError(
                    "Metric with name `global_step` is not allowed, because Estimator already "
                    "defines a default metric with the same name."
                )
            values[v1.GraphKeys.GLOBAL_STEP] = v1.train.get_global_step(graph)
            if not checkpoint_path:
                warm_start(self._warm_start)
            scaffold = spec.scaffold
            from tensorflow.python.training import evaluation

            eval_step = evaluation._get_or_create_eval_step()
            if scaffold.local_init_op is not None:
                scaffold = v1.train.Scaffold(
                    local_init_op=tf.group(
                        scaffold.local_init_op, v1.train.Scaffold.default_local_init_op()
                    ),
                    copy_from_scaffold=scaffold,
                )
            counted = v1.assign_add(eval_step, 1, use_locking=True)
            with tf.control_dependencies([update_op, counted]):
                done = tf.identity(eval_step.read_value())
            final = v1.train.FinalOpsHook(values)
            every_hook = input_hooks + hooks + list(spec.evaluation_hooks)
            every_hook += [EvalCounterHook(steps, done), final]
            with HookedSession(
                every_hook, scaffold, checkpoint_path=checkpoint_path, config=self._session_config
            ) as session:
                while not session.should_stop():
                    session.run([update_op, counted])
            results = final.final_ops_values
            write_summary(self.eval_dir(name), results, results[v1.GraphKeys.GLOBAL_STEP])
        return results

    def predict(
        self,
        input_fn: Callable,
        predict_keys=None,
        hooks=None,
        checkpoint_path: str | None = None,
        yield_single_examples: bool = True,
    ) -> Iterator:
        """``model_fn``'s PREDICT predictions for each of ``input_fn``'s examples (each batch
        where ``yield_single_examples`` is false), from the latest checkpoint."""
        hooks = checked_hooks(hooks)
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        with tf.Graph().as_default() as graph:
            self._new_graph(graph)
            result = self._call_input_fn(input_fn, ModeKeys.PREDICT)
            features, _, input_hooks = split_input(result)
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT, self.config)
            if not checkpoint_path:
                warm_start(self._warm_start)
            predictions = spec.predictions
            if predict_keys:
                if not isinstance(predictions, dict):
                    raise ValueError(
                        "predict_keys argument is not valid in case of non-dict predictions."
                    )
                kept = {k: v for k, v in predictions.items() if k in predict_keys}
                if not kept:
                    raise ValueError(
                        f"Expected to run at least one output from {predictions.keys()}, "
                        f"provided {predict_keys}."
                    )
                predictions = kept
            every_hook = input_hooks + hooks + list(spec.prediction_hooks)
            with HookedSession(
                every_hook,
                spec.scaffold,
                checkpoint_path=checkpoint_path,
                config=self._session_config,
            ) as session:
                while not session.should_stop():
                    values = session.run(predictions)
                    if not yield_single_examples:
                        yield values
                    elif not isinstance(predictions, dict):
                        yield from values
                    else:
                        for i in range(batch_length(values)):
                            yield {key: value[i] for key, value in values.items()}

    def export_saved_model(self, *args, **kwargs) -> NoReturn:
        raise not_covered("Estimator.export_saved_model", "exporting a SavedModel")

    def export_savedmodel(self, *args, **kwargs) -> NoReturn:
        raise not_covered("Estimator.export_savedmodel", "exporting a SavedModel")

    def experimental_export_all_saved_models(self, *args, **kwargs) -> NoReturn:
        raise not_covered(
            "Estimator.experimental_export_all_saved_models", "exporting a SavedModel"
        )
