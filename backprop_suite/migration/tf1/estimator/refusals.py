"""The one-line refusal for what the real ``tf.estimator`` has and this stand-in does not, and
the names of the real API that it refuses."""

from __future__ import annotations

STAND_IN = "the migration check's Estimator stand-in does not cover it"

# the real tf.estimator's (TF 1.15, tensorflow_estimator) names that are not ours
MISSING = (
    "BaselineClassifier",
    "BaselineEstimator",
    "BaselineRegressor",
    "BinaryClassHead",
    "BoostedTreesClassifier",
    "BoostedTreesEstimator",
    "BoostedTreesRegressor",
    "DNNEstimator",
    "DNNLinearCombinedClassifier",
    "DNNLinearCombinedEstimator",
    "DNNLinearCombinedRegressor",
    "Head",
    "LinearEstimator",
    "LogisticRegressionHead",
    "MultiClassHead",
    "MultiHead",
    "MultiLabelHead",
    "PoissonRegressionHead",
    "RegressionHead",
    "add_metrics",
    "TPUEstimator",
    "TPUEstimatorSpec",
)
MISSING_EXPORT = (
    "ServingInputReceiver",
    "TensorServingInputReceiver",
    "SupervisedInputReceiver",
    "UnsupervisedInputReceiver",
    "build_supervised_input_receiver_fn_from_input_fn",
)


def not_covered(what: str, detail: str = "") -> NotImplementedError:
    """``what: the migration check's Estimator stand-in does not cover it``, ``detail`` in
    parentheses after it: one line."""
    return NotImplementedError(f"{what}: {STAND_IN}" + (f" ({detail})" if detail else ""))
