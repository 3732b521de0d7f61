"""The canned estimators with TF 1.15's v1 semantics: ``DNNClassifier``, ``DNNRegressor``,
``LinearClassifier`` and ``LinearRegressor``.

As ``tf.compat.v1.estimator``'s: the same variable scopes and names (``dnn/hiddenlayer_0/kernel``,
``dnn/logits/bias``, ``linear/linear_model/<column>/weights``, ``linear/linear_model/bias_weights``,
each the single part of a variable partitioned by ``min_max_variable_partitioner`` for zero
parameter servers, so ``.../part_0`` in the graph and the plain name in a checkpoint), the same
Glorot-uniform kernels and zero biases, the feature columns through
``tf.compat.v1.feature_column.input_layer`` (``linear_model`` for the linear ones), the same
default optimizers (``Adagrad`` at 0.05 for a DNN, ``Ftrl`` at 0.2 for a linear model; a name,
an instance or a callable), the v1 heads (``heads.py``: the loss summed over the batch), and
dropout only in training."""

from __future__ import annotations

import math

import tensorflow as tf

from backprop_suite.migration.tf1.estimator.estimator import Estimator
from backprop_suite.migration.tf1.estimator.heads import Head, Regression, classifier_head
from backprop_suite.migration.tf1.estimator.spec import EstimatorSpec, ModeKeys

v1 = tf.compat.v1
DNN_LEARNING_RATE = 0.05
LINEAR_LEARNING_RATE = 0.2
SUM = "weighted_sum"


def optimizers() -> dict:
    return {
        "Adagrad": v1.train.AdagradOptimizer,
        "Adam": v1.train.AdamOptimizer,
        "Ftrl": v1.train.FtrlOptimizer,
        "RMSProp": v1.train.RMSPropOptimizer,
        "SGD": v1.train.GradientDescentOptimizer,
    }


def optimizer_instance(optimizer, learning_rate: float) -> object:
    """``optimizer`` as a ``tf.compat.v1.train.Optimizer``: a name at ``learning_rate``, a
    callable called, an instance as it is."""
    if isinstance(optimizer, str):
        known = optimizers()
        if optimizer not in known:
            raise ValueError(
                f"Unsupported optimizer name: {optimizer}. Supported names are: "
                f"{tuple(sorted(known))}"
            )
        return known[optimizer](learning_rate=learning_rate)
    if callable(optimizer):
        optimizer = optimizer()
    if not isinstance(optimizer, v1.train.Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {optimizer}")
    return optimizer


def require_dict(features) -> None:
    if not isinstance(features, dict):
        raise ValueError(
            f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
        )


def layer_summary(value, tag: str) -> None:
    v1.summary.scalar(f"{tag}/fraction_of_zero_values", tf.math.zero_fraction(value))
    v1.summary.histogram(f"{tag}/activation", value)


def dense(net, units: int, activation, scope) -> object:
    layer = v1.layers.Dense(
        units=units,
        activation=activation,
        kernel_initializer=v1.glorot_uniform_initializer(),
        name=scope,
        _scope=scope,
    )
    return layer(net)


def dnn_logits(features, mode: str, units: int, options: dict, replicas: int) -> object:
    """The DNN's logits, in the variable scope ``dnn`` the caller opened."""
    training = mode == ModeKeys.TRAIN
    partitioner = options["input_layer_partitioner"] or v1.min_max_variable_partitioner(
        max_partitions=replicas, min_slice_size=64 << 20
    )
    with v1.variable_scope("input_from_feature_columns", partitioner=partitioner):
        net = v1.feature_column.input_layer(features, options["feature_columns"])
    for index, width in enumerate(options["hidden_units"]):
        with v1.variable_scope(f"hiddenlayer_{index}") as scope:
            net = dense(net, width, options["activation_fn"], scope)
            if options["dropout"] is not None and training:
                net = v1.layers.Dropout(rate=options["dropout"])(net, training=True)
            if options["batch_norm"]:
                name = f"batchnorm_{index}"
                normalize = v1.layers.BatchNormalization(
                    momentum=0.999, trainable=True, name=name, _scope=name
                )
                net = normalize(net, training=training)
        layer_summary(net, scope.name)
    with v1.variable_scope("logits") as scope:
        logits = dense(net, units, None, scope)
    layer_summary(logits, scope.name)
    return logits


def dnn_model_fn(features, labels, mode: str, head: Head, options: dict, config) -> EstimatorSpec:
    """The DNN's logits and its head's spec, both in the variable scope ``dnn``."""
    optimizer = optimizer_instance(options["optimizer"], DNN_LEARNING_RATE)
    require_dict(features)
    replicas = config.num_ps_replicas if config else 0
    with v1.variable_scope(
        "dnn",
        values=tuple(features.values()),
        partitioner=v1.min_max_variable_partitioner(max_partitions=replicas),
    ):
        logits = dnn_logits(features, mode, head.logits_dimension, options, replicas)
        return head.create_estimator_spec(
            features=features, mode=mode, labels=labels, optimizer=optimizer, logits=logits
        )


def zero_fraction(variables) -> object:
    with tf.name_scope("zero_fraction"):
        flat = tf.concat([tf.reshape(tf.convert_to_tensor(v), [-1]) for v in variables], 0)
        return tf.identity(tf.math.zero_fraction(flat), name="zero_fraction_or_nan")


def linear_model_fn(
    features, labels, mode: str, head: Head, options: dict, config
) -> EstimatorSpec:
    require_dict(features)
    replicas = config.num_ps_replicas if config else 0
    partitioner = options["partitioner"] or v1.min_max_variable_partitioner(
        max_partitions=replicas, min_slice_size=64 << 20
    )
    columns = options["feature_columns"]
    with v1.variable_scope("linear", values=tuple(features.values()), partitioner=partitioner):
        variables = {}
        logits = v1.feature_column.linear_model(
            features,
            columns,
            units=head.logits_dimension,
            sparse_combiner=options["sparse_combiner"],
            cols_to_vars=variables,
        )
        bias = variables.pop("bias")
        if head.logits_dimension > 1:
            v1.summary.histogram("bias", bias)
        else:
            v1.summary.scalar("bias", bias[0][0])
        weights = [part for parts in variables.values() for part in parts]
        v1.summary.scalar("fraction_of_zero_weights", zero_fraction(weights))
        default = v1.train.FtrlOptimizer(
            learning_rate=min(LINEAR_LEARNING_RATE, 1.0 / math.sqrt(len(columns)))
        )
        optimizer = optimizer_instance(options["optimizer"] or default, LINEAR_LEARNING_RATE)
        return head.create_estimator_spec(
            features=features, mode=mode, labels=labels, optimizer=optimizer, logits=logits
        )


class Canned(Estimator):
    """An ``Estimator`` whose ``model_fn`` is ``build(features, labels, mode, head, options,
    config)``."""

    def __init__(
        self, build, head: Head, options: dict, model_dir, config, warm_start_from
    ) -> None:
        options["feature_columns"] = tuple(options["feature_columns"] or [])

        def model_fn(features, labels, mode, config):
            return build(features, labels, mode, head, options, config)

        super().__init__(
            model_fn=model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from
        )


class DNNClassifier(Canned):
    """A feed-forward classifier (``tf.compat.v1.estimator.DNNClassifier``)."""

    def __init__(
        self,
        hidden_units,
        feature_columns,
        model_dir=None,
        n_classes: int = 2,
        weight_column=None,
        label_vocabulary=None,
        optimizer="Adagrad",
        activation_fn=tf.nn.relu,
        dropout: float | None = None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction: str = SUM,
        batch_norm: bool = False,
    ) -> None:
        head = classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction)
        options = dict(
            hidden_units=hidden_units,
            feature_columns=feature_columns,
            optimizer=optimizer,
            activation_fn=activation_fn,
            dropout=dropout,
            input_layer_partitioner=input_layer_partitioner,
            batch_norm=batch_norm,
        )
        super().__init__(dnn_model_fn, head, options, model_dir, config, warm_start_from)


class DNNRegressor(Canned):
    """A feed-forward regressor (``tf.compat.v1.estimator.DNNRegressor``)."""

    def __init__(
        self,
        hidden_units,
        feature_columns,
        model_dir=None,
        label_dimension: int = 1,
        weight_column=None,
        optimizer="Adagrad",
        activation_fn=tf.nn.relu,
        dropout: float | None = None,
        input_layer_partitioner=None,
        config=None,
        warm_start_from=None,
        loss_reduction: str = SUM,
        batch_norm: bool = False,
    ) -> None:
        head = Regression(
            label_dimension, weight_column=weight_column, loss_reduction=loss_reduction
        )
        options = dict(
            hidden_units=hidden_units,
            feature_columns=feature_columns,
            optimizer=optimizer,
            activation_fn=activation_fn,
            dropout=dropout,
            input_layer_partitioner=input_layer_partitioner,
            batch_norm=batch_norm,
        )
        super().__init__(dnn_model_fn, head, options, model_dir, config, warm_start_from)


def refuse_sdca(optimizer) -> None:
    if type(optimizer).__name__ == "LinearSDCA":
        from backprop_suite.migration.tf1.estimator.refusals import not_covered

        raise not_covered("tf.estimator.experimental.LinearSDCA")


class LinearClassifier(Canned):
    """A linear classifier (``tf.compat.v1.estimator.LinearClassifier``)."""

    def __init__(
        self,
        feature_columns,
        model_dir=None,
        n_classes: int = 2,
        weight_column=None,
        label_vocabulary=None,
        optimizer="Ftrl",
        config=None,
        partitioner=None,
        warm_start_from=None,
        loss_reduction: str = SUM,
        sparse_combiner: str = "sum",
    ) -> None:
        refuse_sdca(optimizer)
        head = classifier_head(n_classes, weight_column, label_vocabulary, loss_reduction)
        options = dict(
            feature_columns=feature_columns,
            optimizer=optimizer,
            partitioner=partitioner,
            sparse_combiner=sparse_combiner,
        )
        super().__init__(linear_model_fn, head, options, model_dir, config, warm_start_from)


class LinearRegressor(Canned):
    """A linear regressor (``tf.compat.v1.estimator.LinearRegressor``)."""

    def __init__(
        self,
        feature_columns,
        model_dir=None,
        label_dimension: int = 1,
        weight_column=None,
        optimizer="Ftrl",
        config=None,
        partitioner=None,
        warm_start_from=None,
        loss_reduction: str = SUM,
        sparse_combiner: str = "sum",
    ) -> None:
        refuse_sdca(optimizer)
        head = Regression(
            label_dimension, weight_column=weight_column, loss_reduction=loss_reduction
        )
        options = dict(
            feature_columns=feature_columns,
            optimizer=optimizer,
            partitioner=partitioner,
            sparse_combiner=sparse_combiner,
        )
        super().__init__(linear_model_fn, head, options, model_dir, config, warm_start_from)


def classifier_parse_example_spec(
    feature_columns, label_key: str, label_dtype=tf.int64, label_default=None, weight_column=None
) -> dict:
    """``tf.io.parse_example``'s spec for the columns, the label and the weight column."""
    spec = v1.feature_column.make_parse_example_spec(feature_columns)
    return with_label(spec, label_key, (1,), label_dtype, label_default, weight_column)


def regressor_parse_example_spec(
    feature_columns,
    label_key: str,
    label_dtype=tf.float32,
    label_default=None,
    label_dimension: int = 1,
    weight_column=None,
) -> dict:
    spec = v1.feature_column.make_parse_example_spec(feature_columns)
    return with_label(
        spec, label_key, (label_dimension,), label_dtype, label_default, weight_column
    )


def with_label(spec: dict, key: str, shape, dtype, default, weight_column) -> dict:
    if key in spec:
        raise ValueError(f"label should not be used as feature. label_key: {key}, features: {spec}")
    spec = dict(spec)
    spec[key] = tf.io.FixedLenFeature(shape, dtype, default)
    if weight_column is not None:
        if isinstance(weight_column, str):
            weight_column = tf.feature_column.numeric_column(weight_column)
        spec.update(v1.feature_column.make_parse_example_spec([weight_column]))
    return spec
