"""The v1 heads of the canned estimators: from logits to predictions, a loss, metrics and a
train op, as TF 1.15's ``tf.compat.v1.estimator`` heads make them.

The loss is the per-example loss (sigmoid cross-entropy for two classes, softmax cross-entropy
for more, squared error for regression) reduced with ``tf.compat.v1.losses.compute_weighted_loss``
by the head's ``loss_reduction``, ``SUM`` by default (v1: the batch's sum, not its mean); the
train op is ``optimizer.minimize(loss, global_step)`` grouped with the ``UPDATE_OPS``. Ops are
under the name scope ``head``, the summaries ``loss`` and ``average_loss`` at the top."""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.ops import lookup_ops
from tensorflow.python.saved_model.model_utils import export_output

from backprop_suite.migration.tf1.estimator.spec import EstimatorSpec, ModeKeys

v1 = tf.compat.v1
SERVING_KEY = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY


def check_reduction(loss_reduction: str) -> None:
    if loss_reduction not in v1.losses.Reduction.all() or loss_reduction == "none":
        raise ValueError(f"Invalid loss_reduction: {loss_reduction}")


def checked_logits(logits, dimension: int) -> object:
    logits = tf.cast(logits, tf.float32)
    if logits.shape.ndims is not None and logits.shape.ndims < 2:
        raise ValueError(
            f"logits shape must be [D0, D1, ... DN, logits_dimension], got {logits.shape}."
        )
    last = logits.shape[-1] if logits.shape.ndims else None
    if last is not None and last != dimension:
        raise ValueError(
            f"logits shape must be [D0, D1, ... DN, logits_dimension={dimension}], got "
            f"{logits.shape}."
        )
    return logits


def checked_labels(labels, logits, dimension: int) -> object:
    """``labels`` as ``[D0, ... DN, dimension]`` (a last axis added where they lack one)."""
    if labels is None:
        raise ValueError(
            "You must provide a labels Tensor. Given: None. Suggested troubleshooting steps: "
            "Check that your data contain your label feature. Check that your input_fn properly "
            "parses and returns labels."
        )
    with v1.name_scope(None, "labels", (labels, logits)):
        labels = v1.convert_to_tensor_or_sparse_tensor(labels)
        if isinstance(labels, tf.SparseTensor):
            raise ValueError("SparseTensor labels are not supported.")
        if labels.shape.ndims is not None and labels.shape.ndims == logits.shape.ndims - 1:
            labels = v1.expand_dims(labels, -1)
        last = labels.shape[-1] if labels.shape.ndims else None
        if last is not None and last != dimension:
            raise ValueError(
                f"Mismatched label shape. Expected labels dimension={dimension}.  Received {last}."
            )
        return labels


def in_range(labels, n_classes: int) -> object:
    with v1.name_scope(None, "assert_range", (labels,)):
        below = v1.assert_less_equal(
            labels, tf.constant(n_classes - 1, labels.dtype), message="Labels must <= n_classes - 1"
        )
        positive = v1.assert_non_negative(labels, message="Labels must >= 0")
        with tf.control_dependencies([below, positive]):
            return tf.identity(labels)


def example_weights(features, weight_column, logits) -> object:
    """The weight column's values shaped as the loss (1.0 without one)."""
    if weight_column is None:
        return 1.0
    key = weight_column if isinstance(weight_column, str) else weight_column.key
    with v1.name_scope(None, "weights", tuple(features.values()) + (logits,)):
        weights = features[key]
        normalize = getattr(weight_column, "normalizer_fn", None)
        if normalize is not None:
            weights = normalize(weights)
        if not (weights.dtype.is_floating or weights.dtype.is_integer):
            raise ValueError(
                f"Weight column should be castable to float. Given dtype: {weights.dtype}"
            )
        weights = tf.cast(weights, tf.float32, name="weights")
        if weights.shape.ndims is not None and weights.shape.ndims == logits.shape.ndims - 1:
            weights = v1.expand_dims(weights, -1)
        return weights


def metric_weights(weights) -> object:
    return None if isinstance(weights, float) else weights


class Head:
    """What the canned estimators share: loss, metrics and train op from ``logits``."""

    logits_dimension = 1

    def __init__(self, weight_column=None, loss_reduction: str = "weighted_sum") -> None:
        check_reduction(loss_reduction)
        self.weight_column = weight_column
        self.loss_reduction = loss_reduction

    def create_estimator_spec(
        self, features, mode, logits, labels=None, optimizer=None, train_op_fn=None
    ) -> EstimatorSpec:
        with v1.name_scope("head"):
            logits = checked_logits(logits, self.logits_dimension)
            predictions = self.predictions(logits)
            if mode == ModeKeys.PREDICT:
                return EstimatorSpec(
                    mode, predictions=predictions, export_outputs=self.export_outputs(predictions)
                )
            labels = checked_labels(labels, logits, self.labels_dimension)
            unreduced, labels = self.unreduced_loss(labels, logits)
            weights = example_weights(features, self.weight_column, logits)
            loss = v1.losses.compute_weighted_loss(
                unreduced, weights=weights, reduction=self.loss_reduction
            )
            if mode == ModeKeys.EVAL:
                with v1.name_scope(None, "metrics"):
                    metrics = self.metrics(labels, predictions, metric_weights(weights), unreduced)
                return EstimatorSpec(
                    mode, predictions=predictions, loss=loss, eval_metric_ops=metrics
                )
            if optimizer is not None and train_op_fn is not None:
                raise ValueError("train_op_fn and optimizer cannot both be set.")
            if optimizer is not None:
                train_op = optimizer.minimize(loss, global_step=v1.train.get_global_step())
            elif train_op_fn is not None:
                train_op = train_op_fn(loss)
            else:
                raise ValueError("train_op_fn and optimizer cannot both be None.")
            updates = v1.get_collection(v1.GraphKeys.UPDATE_OPS)
            if updates:
                train_op = tf.group(train_op, *updates)
            mean_loss = None
            if self.loss_reduction == v1.losses.Reduction.SUM:
                mean_loss = loss / tf.reduce_sum(weights * v1.ones_like(unreduced))
        with v1.name_scope(""):
            v1.summary.scalar("loss", loss)
            if mean_loss is not None:
                v1.summary.scalar("average_loss", mean_loss)
        return EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op)

    labels_dimension = property(lambda self: self.logits_dimension)


class Regression(Head):
    """Squared error; predictions ``{"predictions": logits}``."""

    def __init__(self, label_dimension: int = 1, **options) -> None:
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        super().__init__(**options)
        self.logits_dimension = label_dimension

    def predictions(self, logits) -> dict:
        return {"predictions": logits}

    def export_outputs(self, predictions) -> dict:
        value = export_output.RegressionOutput(value=predictions["predictions"])
        whole = export_output.PredictOutput(predictions)
        return {SERVING_KEY: value, "regression": value, "predict": whole}

    def unreduced_loss(self, labels, logits) -> tuple:
        labels = tf.cast(labels, tf.float32)
        loss = v1.losses.mean_squared_error(
            labels=labels, predictions=logits, reduction=v1.losses.Reduction.NONE
        )
        return loss, labels

    def metrics(self, labels, predictions, weights, unreduced) -> dict:
        return {
            "average_loss": v1.metrics.mean(unreduced, weights=weights),
            "prediction/mean": v1.metrics.mean(
                predictions["predictions"], weights=weights, name="prediction/mean"
            ),
            "label/mean": v1.metrics.mean(labels, weights=weights),
        }


class Classification(Head):
    """Predictions and the vocabulary common to both classifiers."""

    labels_dimension = 1

    def __init__(self, n_classes: int, label_vocabulary=None, **options) -> None:
        if label_vocabulary is not None and not isinstance(label_vocabulary, list | tuple):
            raise ValueError(
                "label_vocabulary should be a list or a tuple. Given type: "
                f"{type(label_vocabulary)}"
            )
        super().__init__(**options)
        self.n_classes = n_classes
        self.vocabulary = label_vocabulary

    def class_ids(self, labels) -> object:
        if self.vocabulary is None:
            if not labels.dtype.is_integer and self.n_classes > 2:
                raise ValueError(f"Labels dtype should be integer. Instead got {labels.dtype}.")
            return labels
        if labels.dtype != tf.string:
            raise ValueError(
                "Labels dtype should be string if there is a vocabulary. Instead got "
                f"{labels.dtype}"
            )
        table = lookup_ops.index_table_from_tensor(
            vocabulary_list=tuple(self.vocabulary), name="class_id_lookup"
        )
        return table.lookup(labels)

    def classes(self, class_ids) -> object:
        if self.vocabulary:
            table = lookup_ops.index_to_string_table_from_tensor(
                vocabulary_list=self.vocabulary, name="class_string_lookup"
            )
            return table.lookup(class_ids)
        return tf.strings.as_string(class_ids, name="str_classes")

    def every_class(self, logits) -> tuple:
        rows = v1.shape(logits)[0]
        names = self.vocabulary or tf.strings.as_string(tf.range(self.n_classes))
        ids = tf.tile(v1.expand_dims(tf.range(self.n_classes), 0), [rows, 1])
        return ids, tf.tile(v1.expand_dims(names, 0), [rows, 1])

    def class_predictions(self, logits, scores_logits) -> dict:
        class_ids = v1.expand_dims(v1.argmax(scores_logits, axis=-1, name="class_ids"), -1)
        all_ids, all_classes = self.every_class(logits)
        return {
            "logits": logits,
            "probabilities": v1.nn.softmax(scores_logits, name="probabilities"),
            "class_ids": class_ids,
            "classes": self.classes(class_ids),
            "all_class_ids": all_ids,
            "all_classes": all_classes,
        }

    def export_outputs(self, predictions) -> dict:
        rows = v1.shape(predictions["probabilities"])[0]
        names = self.vocabulary or tf.strings.as_string(tf.range(self.n_classes))
        classes = tf.tile(v1.expand_dims(names, 0), [rows, 1])
        scores = export_output.ClassificationOutput(
            scores=predictions["probabilities"], classes=classes
        )
        outputs = {SERVING_KEY: scores, "classification": scores}
        if "logistic" in predictions:
            outputs["regression"] = export_output.RegressionOutput(value=predictions["logistic"])
        outputs["predict"] = export_output.PredictOutput(predictions)
        return outputs


class BinaryLogistic(Classification):
    """Sigmoid cross-entropy on one logit; labels 0 or 1 (or from the vocabulary)."""

    def __init__(self, **options) -> None:
        super().__init__(2, **options)

    def predictions(self, logits) -> dict:
        with v1.name_scope(None, "predictions", (logits,)):
            two = tf.concat((v1.zeros_like(logits), logits), axis=-1, name="two_class_logits")
            found = self.class_predictions(logits, two)
            found["logistic"] = tf.sigmoid(logits, name="logistic")
            return found

    def unreduced_loss(self, labels, logits) -> tuple:
        labels = in_range(tf.cast(self.class_ids(labels), tf.float32), 2)
        loss = v1.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        return loss, labels

    def metrics(self, labels, predictions, weights, unreduced) -> dict:
        class_ids, logistic = predictions["class_ids"], predictions["logistic"]
        label_mean = v1.metrics.mean(labels, weights=weights, name="label/mean")
        return {
            "average_loss": v1.metrics.mean(unreduced, weights=weights, name="average_loss"),
            "accuracy": v1.metrics.accuracy(labels, class_ids, weights=weights, name="accuracy"),
            "precision": v1.metrics.precision(labels, class_ids, weights=weights, name="precision"),
            "recall": v1.metrics.recall(labels, class_ids, weights=weights, name="recall"),
            "prediction/mean": v1.metrics.mean(logistic, weights=weights, name="prediction/mean"),
            "label/mean": label_mean,
            "accuracy_baseline": (
                tf.maximum(label_mean[0], 1.0 - label_mean[0]),
                tf.maximum(label_mean[1], 1.0 - label_mean[1]),
            ),
            "auc": v1.metrics.auc(labels, logistic, weights=weights, curve="ROC", name="auc"),
            "auc_precision_recall": v1.metrics.auc(
                labels, logistic, weights=weights, curve="PR", name="auc_precision_recall"
            ),
        }


class MultiClass(Classification):
    """Softmax cross-entropy over ``n_classes`` logits; integer labels (or from the
    vocabulary)."""

    def __init__(self, n_classes: int, **options) -> None:
        if n_classes is None or n_classes <= 2:
            raise ValueError(f"n_classes must be > 2: {n_classes}.")
        super().__init__(n_classes, **options)

    logits_dimension = property(lambda self: self.n_classes)

    def predictions(self, logits) -> dict:
        with v1.name_scope(None, "predictions", (logits,)):
            return self.class_predictions(logits, logits)

    def unreduced_loss(self, labels, logits) -> tuple:
        labels = in_range(self.class_ids(labels), self.n_classes)
        loss = v1.losses.sparse_softmax_cross_entropy(
            labels=labels, logits=logits, reduction=v1.losses.Reduction.NONE
        )
        return v1.expand_dims(loss, -1), labels

    def metrics(self, labels, predictions, weights, unreduced) -> dict:
        return {
            "average_loss": v1.metrics.mean(unreduced, weights=weights, name="average_loss"),
            "accuracy": v1.metrics.accuracy(
                labels, predictions["class_ids"], weights=weights, name="accuracy"
            ),
        }


def classifier_head(n_classes: int, weight_column, label_vocabulary, loss_reduction) -> Head:
    """The binary head for two classes, the softmax head for more."""
    options = dict(
        weight_column=weight_column,
        label_vocabulary=label_vocabulary,
        loss_reduction=loss_reduction,
    )
    if n_classes == 2:
        return BinaryLogistic(**options)
    return MultiClass(n_classes, **options)
