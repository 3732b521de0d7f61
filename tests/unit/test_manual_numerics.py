"""The hand-written sigmoid: exact where it matters, silent for any |z|."""

import warnings

import numpy as np
import pytest

from manual_impl.activations import sigmoid


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_does_not_overflow_or_warn_for_large_inputs(dtype):
    z = np.array([-1e30, -1000.0, -100.0, 0.0, 100.0, 1000.0, 1e30], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is right
            h = sigmoid(z)
    assert h.dtype == np.dtype(dtype)
    assert h[0] == 0.0 and h[-1] == 1.0 and h[3] == 0.5
    assert np.all(np.diff(h) >= 0)


def test_sigmoid_matches_the_textbook_formula_where_that_formula_is_safe():
    z = np.linspace(-30, 30, 601)
    # within a few units in the last place: both formulas round at every operation
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=4e-15, atol=0)
