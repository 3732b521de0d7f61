"""The ``tf.estimator`` module a TF1 program sees: our names in fresh module objects
(``inputs``, ``export``, ``experimental`` and ``tpu`` under it), each asked-for name of the real
API that we lack a one-line ``NotImplementedError``, any other unknown name an
``AttributeError``."""

from __future__ import annotations

import types

from backprop_suite.migration.tf1.estimator.canned import (
    DNNClassifier,
    DNNRegressor,
    LinearClassifier,
    LinearRegressor,
    classifier_parse_example_spec,
    regressor_parse_example_spec,
)
from backprop_suite.migration.tf1.estimator.estimator import Estimator
from backprop_suite.migration.tf1.estimator.exporting import (
    BestExporter,
    Exporter,
    FinalExporter,
    LatestExporter,
    export_names,
)
from backprop_suite.migration.tf1.estimator.hooks import hooks
from backprop_suite.migration.tf1.estimator.inputs import numpy_input_fn, pandas_input_fn
from backprop_suite.migration.tf1.estimator.refusals import MISSING, MISSING_EXPORT, not_covered
from backprop_suite.migration.tf1.estimator.run_config import RunConfig
from backprop_suite.migration.tf1.estimator.spec import EstimatorSpec, ModeKeys
from backprop_suite.migration.tf1.estimator.training import EvalSpec, TrainSpec, train_and_evaluate
from backprop_suite.migration.tf1.estimator.warm_start import VocabInfo, WarmStartSettings

EVERY_NAME = object()


def namespace(name: str, doc: str, names: dict, refused=()) -> types.ModuleType:
    """A module ``name`` holding ``names``; one of ``refused`` (``EVERY_NAME``: any public
    one) asked for raises the stand-in's refusal."""
    module = types.ModuleType(name, doc)
    module.__dict__.update(names)
    shown = "tf." + name.removeprefix("tensorflow.")

    def __getattr__(attribute: str):
        public = not attribute.startswith("_")
        if (refused is EVERY_NAME and public) or attribute in refused:
            raise not_covered(f"{shown}.{attribute}")
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    module.__getattr__ = __getattr__
    return module


def submodules(name: str) -> dict[str, types.ModuleType]:
    return {
        "inputs": namespace(
            f"{name}.inputs",
            "numpy_input_fn and pandas_input_fn.",
            {"numpy_input_fn": numpy_input_fn, "pandas_input_fn": pandas_input_fn},
        ),
        "export": namespace(
            f"{name}.export",
            "The export outputs; serving input functions that refuse to serve.",
            export_names(),
            MISSING_EXPORT,
        ),
        "experimental": namespace(f"{name}.experimental", "Not covered.", {}, EVERY_NAME),
        "tpu": namespace(f"{name}.tpu", "Not covered.", {}, EVERY_NAME),
    }


def build(name: str = "tensorflow.estimator") -> types.ModuleType:
    """The ``tf.estimator`` module and its submodules, fresh."""
    names = {
        "Estimator": Estimator,
        "EstimatorSpec": EstimatorSpec,
        "ModeKeys": ModeKeys,
        "RunConfig": RunConfig,
        "TrainSpec": TrainSpec,
        "EvalSpec": EvalSpec,
        "train_and_evaluate": train_and_evaluate,
        "WarmStartSettings": WarmStartSettings,
        "VocabInfo": VocabInfo,
        "DNNClassifier": DNNClassifier,
        "DNNRegressor": DNNRegressor,
        "LinearClassifier": LinearClassifier,
        "LinearRegressor": LinearRegressor,
        "classifier_parse_example_spec": classifier_parse_example_spec,
        "regressor_parse_example_spec": regressor_parse_example_spec,
        "Exporter": Exporter,
        "LatestExporter": LatestExporter,
        "FinalExporter": FinalExporter,
        "BestExporter": BestExporter,
        **hooks(),
        **submodules(name),
    }
    return namespace(name, "TF1's tf.estimator, the migration check's stand-in.", names, MISSING)
