"""The implementations under test, by name, and assertions on how far apart two results are."""

from __future__ import annotations

import numpy as np

from backprop_suite.core import TrainResult
from backprop_suite.verify.registry import IMPLEMENTATIONS as MODULES
from backprop_suite.verify.registry import load_implementation
from backprop_suite.verify.tolerances import NESTEROV_ROUNDING

IMPLEMENTATIONS = {name: load_implementation(name) for name in MODULES}


def assert_identical(a: TrainResult, b: TrainResult) -> None:
    """Bit for bit: every weight, output and per-step loss."""
    assert a.params.keys() == b.params.keys()
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key], err_msg=key)
    np.testing.assert_array_equal(a.outputs, b.outputs, err_msg="outputs")
    np.testing.assert_array_equal(a.losses, b.losses, err_msg="losses")


def assert_close(a: TrainResult, b: TrainResult, atol: float) -> None:
    assert a.params.keys() == b.params.keys()
    for key in a.params:
        np.testing.assert_allclose(a.params[key], b.params[key], rtol=0, atol=atol, err_msg=key)
    np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=atol, err_msg="outputs")
    np.testing.assert_allclose(a.losses, b.losses, rtol=0, atol=atol, err_msg="losses")


def assert_keras_is_tf1(keras_result: TrainResult, tf1_result: TrainResult, cfg) -> None:
    """Bit for bit, but for Nesterov momentum, which is held to its measured rounding."""
    if cfg.optimizer == "momentum" and cfg.optimizer_args["use_nesterov"]:
        assert_close(keras_result, tf1_result, NESTEROV_ROUNDING[cfg.dtype].atol)
    else:
        assert_identical(keras_result, tf1_result)
