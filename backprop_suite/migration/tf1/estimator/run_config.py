"""``RunConfig``: where an ``Estimator`` keeps its checkpoints, its graph seed, how often it saves,
summarizes and logs, and its ``Session``'s configuration; the real one's defaults (a checkpoint
every 600 seconds, 5 kept, a summary and a log line every 100 steps) and checks. One process
only: a distribution strategy or a ``TF_CONFIG`` cluster is refused."""

from __future__ import annotations

import copy
import json
import os

from backprop_suite.migration.tf1.estimator.refusals import not_covered

DEFAULT = object()
REPLACEABLE = (
    "model_dir",
    "tf_random_seed",
    "save_summary_steps",
    "save_checkpoints_steps",
    "save_checkpoints_secs",
    "session_config",
    "keep_checkpoint_max",
    "keep_checkpoint_every_n_hours",
    "log_step_count_steps",
    "train_distribute",
    "device_fn",
    "protocol",
    "eval_distribute",
    "experimental_distribute",
    "experimental_max_worker_delay_secs",
    "session_creation_timeout_secs",
    "checkpoint_save_graph_def",
)
BOTH_SAVES = "`save_checkpoints_steps` and `save_checkpoints_secs` cannot be both set."


class TaskType:
    MASTER = "master"
    PS = "ps"
    WORKER = "worker"
    CHIEF = "chief"
    EVALUATOR = "evaluator"


def default_session_config() -> object:
    """The real Estimator's: soft placement, Grappler's meta-optimizer run once."""
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2

    rewrite = rewriter_config_pb2.RewriterConfig(
        meta_optimizer_iterations=rewriter_config_pb2.RewriterConfig.ONE
    )
    return tf.compat.v1.ConfigProto(
        allow_soft_placement=True,
        graph_options=tf.compat.v1.GraphOptions(rewrite_options=rewrite),
    )


def path_to_str(path) -> object:
    return os.fspath(path) if hasattr(path, "__fspath__") else path


class RunConfig:
    """The configuration of an ``Estimator``'s runs (see the module's docstring)."""

    def __init__(
        self,
        model_dir=None,
        tf_random_seed=None,
        save_summary_steps=100,
        save_checkpoints_steps=DEFAULT,
        save_checkpoints_secs=DEFAULT,
        session_config=None,
        keep_checkpoint_max=5,
        keep_checkpoint_every_n_hours=10000,
        log_step_count_steps=100,
        train_distribute=None,
        device_fn=None,
        protocol=None,
        eval_distribute=None,
        experimental_distribute=None,
        experimental_max_worker_delay_secs=None,
        session_creation_timeout_secs=7200,
        checkpoint_save_graph_def=True,
    ):
        if save_checkpoints_steps is DEFAULT and save_checkpoints_secs is DEFAULT:
            save_checkpoints_steps, save_checkpoints_secs = None, 600
        elif save_checkpoints_secs is DEFAULT:
            save_checkpoints_secs = None
        elif save_checkpoints_steps is DEFAULT:
            save_checkpoints_steps = None
        elif save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError(BOTH_SAVES)
        cluster = json.loads(os.environ.get("TF_CONFIG") or "{}")
        if cluster.get("cluster"):
            raise not_covered("RunConfig with a TF_CONFIG cluster", "it trains in one process")
        if model_dir == "":
            raise ValueError("model_dir should be non-empty.")
        model_dir = path_to_str(model_dir) or cluster.get("model_dir")
        self._set(
            model_dir=model_dir,
            tf_random_seed=tf_random_seed,
            save_summary_steps=save_summary_steps,
            save_checkpoints_steps=save_checkpoints_steps,
            save_checkpoints_secs=save_checkpoints_secs,
            session_config=session_config,
            keep_checkpoint_max=keep_checkpoint_max,
            keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours,
            log_step_count_steps=log_step_count_steps,
            train_distribute=train_distribute,
            device_fn=device_fn,
            protocol=protocol,
            eval_distribute=eval_distribute,
            experimental_distribute=experimental_distribute,
            experimental_max_worker_delay_secs=experimental_max_worker_delay_secs,
            session_creation_timeout_secs=session_creation_timeout_secs,
            checkpoint_save_graph_def=checkpoint_save_graph_def,
        )

    def _set(self, **values) -> RunConfig:
        for key, value in values.items():
            if key not in REPLACEABLE:
                raise ValueError(
                    f"Replacing {key} is not supported. Allowed properties are {list(REPLACEABLE)}."
                )
            setattr(self, "_" + key, value)
        if "save_checkpoints_steps" in values and "save_checkpoints_secs" in values:
            if self._save_checkpoints_steps is not None and self._save_checkpoints_secs is not None:
                raise ValueError(BOTH_SAVES)
        elif values.get("save_checkpoints_steps") is not None:
            self._save_checkpoints_secs = None
        elif values.get("save_checkpoints_secs") is not None:
            self._save_checkpoints_steps = None
        self._validate()
        return self

    def _validate(self) -> None:
        import tensorflow as tf

        for key in ("train_distribute", "eval_distribute", "experimental_distribute"):
            if getattr(self, "_" + key) is not None:
                raise not_covered(f"RunConfig({key}=...)", "it trains without a strategy")
        checks = [
            ("model_dir", lambda d: d, "model_dir should be non-empty"),
            ("save_summary_steps", lambda n: n >= 0, "save_summary_steps should be >= 0"),
            ("save_checkpoints_steps", lambda n: n >= 0, "save_checkpoints_steps should be >= 0"),
            ("save_checkpoints_secs", lambda n: n >= 0, "save_checkpoints_secs should be >= 0"),
            (
                "session_config",
                lambda c: isinstance(c, tf.compat.v1.ConfigProto),
                "session_config must be instance of ConfigProto",
            ),
            ("keep_checkpoint_max", lambda n: n >= 0, "keep_checkpoint_max should be >= 0"),
            (
                "keep_checkpoint_every_n_hours",
                lambda n: n > 0,
                "keep_checkpoint_every_n_hours should be > 0",
            ),
            ("log_step_count_steps", lambda n: n > 0, "log_step_count_steps should be > 0"),
            ("tf_random_seed", lambda s: isinstance(s, int), "tf_random_seed must be integer."),
            (
                "session_creation_timeout_secs",
                lambda s: s > 0,
                "session_creation_timeout_secs should be > 0",
            ),
            ("device_fn", callable, 'device_fn must be callable with exactly one argument "op".'),
        ]
        for key, holds, message in checks:
            value = getattr(self, "_" + key)
            if value is not None and not holds(value):
                raise ValueError(message)

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes`` (only the real one's replaceable properties)."""
        return copy.deepcopy(self)._set(**changes)

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={getattr(self, '_' + key)!r}" for key in REPLACEABLE)
        return f"RunConfig({shown})"

    model_dir = property(lambda self: self._model_dir)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    session_config = property(lambda self: self._session_config)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(lambda self: self._keep_checkpoint_every_n_hours)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    train_distribute = property(lambda self: self._train_distribute)
    eval_distribute = property(lambda self: self._eval_distribute)
    experimental_distribute = property(lambda self: self._experimental_distribute)
    device_fn = property(lambda self: self._device_fn)
    protocol = property(lambda self: self._protocol)
    session_creation_timeout_secs = property(lambda self: self._session_creation_timeout_secs)
    experimental_max_worker_delay_secs = property(
        lambda self: self._experimental_max_worker_delay_secs
    )
    checkpoint_save_graph_def = property(lambda self: self._checkpoint_save_graph_def)

    @property
    def cluster_spec(self) -> object:
        import tensorflow as tf

        return tf.train.ClusterSpec({})

    is_chief = property(lambda self: True)
    master = property(lambda self: "")
    evaluation_master = property(lambda self: "")
    num_ps_replicas = property(lambda self: 0)
    num_worker_replicas = property(lambda self: 1)
    task_id = property(lambda self: 0)
    task_type = property(lambda self: TaskType.WORKER)
    global_id_in_cluster = property(lambda self: 0)
    service = property(lambda self: None)
