"""``ModeKeys`` and ``EstimatorSpec``: what a ``model_fn`` is called for and what it returns,
checked as the real ``tf.estimator.EstimatorSpec`` checks it (a TRAIN spec needs ``loss`` and
``train_op``, an EVAL spec ``loss``, a PREDICT spec ``predictions``; every tensor from the
default graph; the loss a scalar)."""

from __future__ import annotations

import collections

LOSS_METRIC_KEY = "loss"
AVERAGE_LOSS_METRIC_KEY = "average_loss"


class ModeKeys:
    """The mode a ``model_fn`` builds its graph for."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


NOT_IN_GRAPH = (
    '{0} with "{1}" must be from the default graph. Possible causes of this error include: \n\n'
    "1) {0} was created outside the context of the default graph.\n\n"
    "2) The object passed through to EstimatorSpec was not created in the most recent call to "
    '"model_fn".'
)

FIELDS = (
    "mode",
    "predictions",
    "loss",
    "train_op",
    "eval_metric_ops",
    "export_outputs",
    "training_chief_hooks",
    "training_hooks",
    "scaffold",
    "evaluation_hooks",
    "prediction_hooks",
)


class EstimatorSpec(collections.namedtuple("EstimatorSpec", FIELDS)):
    """Ops and objects a ``model_fn`` returns to the ``Estimator``, validated for ``mode``."""

    def __new__(
        cls,
        mode,
        predictions=None,
        loss=None,
        train_op=None,
        eval_metric_ops=None,
        export_outputs=None,
        training_chief_hooks=None,
        training_hooks=None,
        scaffold=None,
        evaluation_hooks=None,
        prediction_hooks=None,
    ):
        train_op = checked_train_op(train_op, mode)
        loss = checked_loss(loss, mode)
        predictions = checked_predictions(predictions, mode)
        return super().__new__(
            cls,
            mode=mode,
            predictions=predictions,
            loss=loss,
            train_op=train_op,
            eval_metric_ops=checked_metrics(eval_metric_ops),
            export_outputs=checked_export_outputs(export_outputs, predictions, mode),
            training_chief_hooks=checked_hooks(training_chief_hooks),
            training_hooks=checked_hooks(training_hooks),
            scaffold=checked_scaffold(scaffold),
            evaluation_hooks=checked_hooks(evaluation_hooks),
            prediction_hooks=checked_hooks(prediction_hooks),
        )

    def _replace(self, **changes):
        if "mode" in changes and changes["mode"] != self.mode:
            raise ValueError("mode of EstimatorSpec cannot be changed.")
        return EstimatorSpec(**{**self._asdict(), **changes})


def in_default_graph(value, what: str, name: str) -> None:
    import tensorflow as tf

    if not tf.executing_eagerly() and value.graph is not tf.compat.v1.get_default_graph():
        raise ValueError(NOT_IN_GRAPH.format(what, name))


def tensor(value, what: str) -> object:
    """``value`` if it is a tensor (a variable as its value), else a ``TypeError``."""
    import tensorflow as tf

    if isinstance(value, tf.Variable):
        return tf.convert_to_tensor(value)
    if not isinstance(value, tf.Tensor):
        raise TypeError(f"{what} must be Tensor, given: {value}")
    return value


def checked_train_op(train_op, mode: str) -> object:
    import tensorflow as tf

    if train_op is None:
        if mode == ModeKeys.TRAIN:
            raise ValueError("Missing train_op.")
        return None
    if isinstance(train_op, tf.Variable):
        train_op = train_op.op
    if not isinstance(train_op, tf.Operation | tf.Tensor):
        raise TypeError(f"train_op must be Operation or Tensor, given: {train_op}")
    in_default_graph(train_op, "train_op", train_op.name)
    return train_op


def checked_loss(loss, mode: str) -> object:
    import tensorflow as tf

    if loss is None:
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise ValueError("Missing loss.")
        return None
    loss = tensor(loss, "loss")
    if loss.shape.num_elements() not in (None, 1):
        raise ValueError(f"Loss must be scalar, given: {loss}")
    if not loss.shape.is_compatible_with(tf.TensorShape([])):
        loss = tf.reshape(loss, [])
    in_default_graph(loss, "loss", loss.name)
    return loss


def checked_predictions(predictions, mode: str) -> object:
    if predictions is None:
        if mode == ModeKeys.PREDICT:
            raise ValueError("Missing predictions.")
        return {}
    if isinstance(predictions, dict):
        predictions = {k: tensor(v, f"predictions[{k}]") for k, v in predictions.items()}
        for key, value in predictions.items():
            in_default_graph(value, "prediction values", f"{key}: {value.name}")
        return predictions
    predictions = tensor(predictions, "predictions")
    in_default_graph(predictions, "prediction values", predictions.name)
    return predictions


def checked_export_outputs(export_outputs, predictions, mode: str) -> object:
    """In PREDICT mode, ``export_outputs`` with TensorFlow's checks, a ``PredictOutput`` of the
    predictions where none is given; as given in the other modes."""
    if mode != ModeKeys.PREDICT:
        return export_outputs
    from tensorflow.python.saved_model.model_utils import export_utils

    return export_utils.get_export_outputs(export_outputs, predictions)


def checked_hooks(hooks) -> tuple:
    import tensorflow as tf

    hooks = tuple(hooks or [])
    for hook in hooks:
        if not isinstance(hook, tf.compat.v1.train.SessionRunHook):
            raise TypeError(f"All hooks must be SessionRunHook instances, given: {hook}")
    return hooks


def is_keras_metric(value) -> bool:
    return all(hasattr(value, name) for name in ("result", "updates", "update_state"))


def checked_metrics(eval_metric_ops) -> dict:
    """``eval_metric_ops`` as ``{name: (value, update_op)}``: a Keras metric object becomes its
    result and its first update, its variables local (initialized with the session)."""
    import tensorflow as tf

    if eval_metric_ops is None:
        return {}
    if not isinstance(eval_metric_ops, dict):
        raise TypeError(f"eval_metric_ops must be a dict, given: {eval_metric_ops}")
    checked, variables = {}, []
    for key, value in eval_metric_ops.items():
        if is_keras_metric(value):
            if not value.updates:
                raise ValueError(f'Please call update_state(...) on the "{value.name}" metric')
            variables.extend(value.variables)
            checked[key] = (value.result(), value.updates[0])
        elif isinstance(value, tuple) and len(value) == 2:
            checked[key] = value
        else:
            raise TypeError(
                "Values of eval_metric_ops must be (metric_value, update_op) tuples, given: "
                f"{value} for key: {key}"
            )
        for part in tf.nest.flatten(checked[key]):
            in_default_graph(part, "eval_metric_ops", f"{key}: {part.name}")
    for collection in (
        tf.compat.v1.GraphKeys.LOCAL_VARIABLES,
        tf.compat.v1.GraphKeys.METRIC_VARIABLES,
    ):
        present = tf.compat.v1.get_collection(collection)
        for variable in variables:
            if not any(variable is p for p in present):
                tf.compat.v1.add_to_collection(collection, variable)
    return checked


def checked_scaffold(scaffold) -> object:
    import tensorflow as tf

    scaffold = scaffold or tf.compat.v1.train.Scaffold()
    if not isinstance(scaffold, tf.compat.v1.train.Scaffold):
        raise TypeError(f"scaffold must be tf.train.Scaffold. Given: {scaffold}")
    return scaffold
