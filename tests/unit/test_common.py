"""The shared contract: the seed's defaults, its dataset, initialisation, the weight format."""

import subprocess
import sys

import numpy as np
import pytest

from backprop_suite.core import (
    TrainConfig,
    init_params,
    load_params,
    save_params,
    step_batches,
    xor_data,
)


def test_default_config_is_the_seed_program():
    cfg = TrainConfig()
    assert cfg.layers == (2, 3, 1)
    assert cfg.activation == "sigmoid"
    assert cfg.loss == "sum_squares"
    assert cfg.learning_rate == 1.0
    assert cfg.steps == 500
    assert cfg.batch_size is None and cfg.shuffle is False
    assert cfg.init == "uniform" and cfg.dtype == "float32"


def test_xor_data_is_in_the_seeds_order():
    x, y = xor_data()
    # the seed: x = [[0.,0.],[1.,1.],[1.,0.],[0.,1.]], y_ = [[0.],[0.],[1.],[1.]]
    assert x.tolist() == [[0, 0], [1, 1], [1, 0], [0, 1]]
    assert y.tolist() == [[0], [0], [1], [1]]
    assert x.dtype == y.dtype == np.float32
    assert np.array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]))


def test_uniform_init_has_the_seed_shapes_and_range():
    cfg = TrainConfig()
    params = init_params(cfg)
    assert list(params) == ["m1", "b1", "m2", "b2"]
    assert {k: v.shape for k, v in params.items()} == {
        "m1": (2, 3),
        "b1": (3,),
        "m2": (3, 1),
        "b2": (1,),
    }
    many = np.concatenate([init_params(cfg, seed=s)[k].ravel() for s in range(200) for k in params])
    assert many.dtype == np.float32
    assert many.min() >= 0.1 and many.max() <= 0.9
    assert many.min() < 0.11 and many.max() > 0.89  # fills the range, not a corner of it


def test_init_is_reproducible_and_the_seed_argument_overrides_cfg():
    cfg = TrainConfig(seed=3)
    first, again = init_params(cfg), init_params(cfg)
    other = init_params(cfg, seed=4)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["m1"], other["m1"])
    assert all(np.array_equal(other[k], init_params(TrainConfig(seed=4))[k]) for k in other)


def test_init_follows_the_dtype_and_depth():
    params = init_params(TrainConfig(layers=(2, 4, 3, 2), dtype="float64"))
    assert list(params) == ["m1", "b1", "m2", "b2", "m3", "b3"]
    assert params["m3"].shape == (3, 2) and params["b3"].shape == (2,)
    assert all(v.dtype == np.float64 for v in params.values())


def test_weights_round_trip_through_npz(tmp_path):
    cfg = TrainConfig(layers=(2, 4, 3, 2), dtype="float64")
    params = init_params(cfg, seed=9)
    save_params(tmp_path / "w.npz", params)
    loaded = load_params(tmp_path / "w.npz", cfg)
    assert loaded.keys() == params.keys()
    assert all(np.array_equal(loaded[k], params[k]) for k in params)
    with np.load(tmp_path / "w.npz") as archive:
        assert sorted(archive.files) == sorted(params)


def test_full_batch_steps_see_every_row_in_order():
    batches = step_batches(4, TrainConfig(steps=3))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3]] * 3


def test_mini_batches_leave_a_smaller_last_batch_per_epoch():
    batches = step_batches(5, TrainConfig(steps=5, batch_size=2))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4], [0, 1], [2, 3]]


def test_shuffled_epochs_are_permutations_drawn_from_the_seed():
    cfg = TrainConfig(steps=8, batch_size=4, shuffle=True, seed=1)
    batches = step_batches(4, cfg)
    assert all(sorted(b.tolist()) == [0, 1, 2, 3] for b in batches)
    assert len({tuple(b) for b in batches}) > 1
    assert [b.tolist() for b in step_batches(4, cfg)] == [b.tolist() for b in batches]


@pytest.mark.parametrize(
    "module",
    [
        "backprop_suite",
        "backprop_suite.core",
        "backprop_suite.verify.comparison",
        "backprop_suite.sweep.check",
        "backprop_suite.migration",
        "backprop_suite.cli.check_migration",
        "manual_impl",
    ],
)
def test_importing_does_not_import_tensorflow(module):
    code = f"import sys, {module}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
