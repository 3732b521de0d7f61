"""The implementations under test, by name, and assertions on how far apart two results are."""

from __future__ import annotations

import numpy as np

from common import TrainResult
from common.registry import IMPLEMENTATIONS as MODULES
from common.registry import load_implementation

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
