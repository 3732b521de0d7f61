"""The seed program's run: TrainConfig() (2-3-1 sigmoid, rate 1.0, 500 steps) learns XOR."""

import numpy as np
import pytest
from implementations import IMPLEMENTATIONS

from backprop_suite.core import TrainConfig, init_params, xor_data


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed_config_classifies_the_four_xor_points(name, seed):
    cfg = TrainConfig()
    x, y = xor_data()
    result = IMPLEMENTATIONS[name].train(init_params(cfg, seed=seed), x, y, cfg)
    predicted = (result.outputs > 0.5).astype(y.dtype)
    assert np.array_equal(predicted, y), (
        f"seed {seed}: after {cfg.steps} steps the outputs are {result.outputs.ravel()} "
        f"(loss {result.final_loss:.4g}); 500 steps are not enough for this seed"
    )
    # the same end the seed program prints: every output within 0.15 of its target
    assert np.max(np.abs(result.outputs - y)) < 0.15


PLATEAU_SEED = 56


@pytest.mark.slow
def test_7_of_the_first_200_seeds_do_not_learn_xor_in_500_steps():
    cfg = TrainConfig()
    x, y = xor_data()
    unlearned = [
        seed
        for seed in range(200)
        if not np.array_equal(
            IMPLEMENTATIONS["manual"].train(init_params(cfg, seed=seed), x, y, cfg).outputs > 0.5,
            y > 0.5,
        )
    ]
    assert unlearned == [56, 60, 132, 150, 172, 179, 198]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_500_steps_are_not_enough_for_seed_56(name):
    cfg = TrainConfig()
    x, y = xor_data()
    result = IMPLEMENTATIONS[name].train(init_params(cfg, seed=PLATEAU_SEED), x, y, cfg)
    # measured: outputs 0.050, 0.507, 0.937, 0.497 and loss 0.517; rows 2 and 4 undecided
    assert not np.array_equal(result.outputs > 0.5, y > 0.5)
    assert 0.5 < result.final_loss < 0.53
    np.testing.assert_allclose(result.outputs[[1, 3], 0], 0.5, atol=0.01)


@pytest.mark.parametrize("name", ["manual", "tf"])
def test_5000_steps_take_seed_56_off_its_plateau(name):
    cfg = TrainConfig(steps=5000)
    x, y = xor_data()
    result = IMPLEMENTATIONS[name].train(init_params(cfg, seed=PLATEAU_SEED), x, y, cfg)
    # measured: loss 0.50 after 2000 steps, 0.0011 after 5000
    assert np.array_equal(result.outputs > 0.5, y > 0.5)
    assert result.final_loss < 0.01
