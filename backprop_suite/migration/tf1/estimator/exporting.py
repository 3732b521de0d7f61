"""``tf.estimator.export`` and the exporters: what a training script names on its way to a
SavedModel. The export outputs a ``model_fn`` puts in its ``EstimatorSpec`` are TensorFlow's own
classes; the serving input builders and the exporters can be made, so that a script that sets
them up before training trains, and refuse when they would export."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from tensorflow.python.saved_model.model_utils import export_output

from backprop_suite.migration.tf1.estimator.refusals import not_covered

OUTPUTS = {
    "ExportOutput": export_output.ExportOutput,
    "ClassificationOutput": export_output.ClassificationOutput,
    "RegressionOutput": export_output.RegressionOutput,
    "PredictOutput": export_output.PredictOutput,
    "EvalOutput": export_output.EvalOutput,
}


def refusing_receiver_fn(builder: str) -> Callable:
    def serving_input_receiver_fn():
        raise not_covered(f"tf.estimator.export.{builder}", "serving a SavedModel")

    return serving_input_receiver_fn


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None) -> Callable:
    """A serving input function that refuses when it is called (at export)."""
    return refusing_receiver_fn("build_parsing_serving_input_receiver_fn")


def build_raw_serving_input_receiver_fn(
    features, default_batch_size=None, default_name: str = "serving_input"
) -> Callable:
    """A serving input function that refuses when it is called (at export)."""
    return refusing_receiver_fn("build_raw_serving_input_receiver_fn")


class Exporter:
    """An exporter that ``EvalSpec(exporters=...)`` takes; its ``export`` refuses."""

    def __init__(self, name: str = "exporter", serving_input_receiver_fn=None, **options) -> None:
        self._name = name
        self.serving_input_receiver_fn = serving_input_receiver_fn
        self.options = options

    @property
    def name(self) -> str:
        return self._name

    def export(
        self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export
    ) -> NoReturn:
        raise not_covered(f"tf.estimator.{type(self).__name__}.export", "exporting a SavedModel")


class LatestExporter(Exporter):
    pass


class FinalExporter(Exporter):
    pass


class BestExporter(Exporter):
    def __init__(
        self, name: str = "best_exporter", serving_input_receiver_fn=None, **options
    ) -> None:
        super().__init__(name, serving_input_receiver_fn, **options)


def export_names() -> dict:
    """What ``tf.estimator.export`` holds."""
    return {
        **OUTPUTS,
        "build_parsing_serving_input_receiver_fn": build_parsing_serving_input_receiver_fn,
        "build_raw_serving_input_receiver_fn": build_raw_serving_input_receiver_fn,
    }
