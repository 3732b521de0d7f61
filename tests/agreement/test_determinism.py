"""Same inputs, same outputs: two runs of each implementation are identical, bit for bit."""

import pytest
from implementations import IMPLEMENTATIONS, assert_identical

from backprop_suite.core import TrainConfig, init_params, xor_data


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_runs_are_identical(name, dtype):
    cfg = TrainConfig(dtype=dtype, steps=200)
    x, y = xor_data()
    params = init_params(cfg, seed=5)
    impl = IMPLEMENTATIONS[name]
    assert_identical(impl.train(params, x, y, cfg), impl.train(params, x, y, cfg))
