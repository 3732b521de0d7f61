"""The seed article's worked example, computed through every implementation's public API.

The article: inputs 0.1 and 0.2, weights 0.27 and 0.57 and bias 0.4 give the net input
(0.1 * 0.27) + (0.2 * 0.57) + 0.4 = 0.541 and the output f(0.541) = 0.632; outputs 0.735 and
0.455 against targets 0.5 give, with the ½ convention, errors 0.0276 and 0.001, total 0.0286.
"""

import pytest
from implementations import IMPLEMENTATIONS

from backprop_suite.core import TrainConfig

NEURON = {"m1": [[0.27], [0.57]], "b1": [0.4]}
INPUTS = [[0.1, 0.2]]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_net_input_of_h1_is_0_541(name):
    # relu is the identity on a positive net input, so it shows the net input itself
    cfg = TrainConfig(layers=(2, 1), activation="relu", dtype="float64")
    net = IMPLEMENTATIONS[name].forward(NEURON, INPUTS, cfg)
    assert net[0, 0] == pytest.approx(0.541, abs=1e-12)


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_output_of_h1_is_0_632(name):
    cfg = TrainConfig(layers=(2, 1), activation="sigmoid", dtype="float64")
    out = IMPLEMENTATIONS[name].forward(NEURON, INPUTS, cfg)
    assert round(float(out[0, 0]), 3) == 0.632


def half_squared_error(name, outputs, targets):
    """The ½ Σ loss of a net whose outputs are exactly ``outputs``: a 1-input relu layer with
    weights equal to the outputs, fed the input 1."""
    cfg = TrainConfig(
        layers=(1, len(outputs)), activation="relu", loss="half_sum_squares", dtype="float64"
    )
    params = {"m1": [outputs], "b1": [0.0] * len(outputs)}
    loss, _ = IMPLEMENTATIONS[name].loss_and_grads(params, [[1.0]], [targets], cfg)
    return loss


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_errors_of_o1_and_o2_are_0_0276_and_0_001(name):
    assert round(half_squared_error(name, [0.735], [0.5]), 4) == 0.0276
    assert round(half_squared_error(name, [0.455], [0.5]), 3) == 0.001


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_total_error_is_0_0286(name):
    assert round(half_squared_error(name, [0.735, 0.455], [0.5, 0.5]), 4) == 0.0286
