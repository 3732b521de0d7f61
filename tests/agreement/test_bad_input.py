"""Bad input raises ValueError naming the problem, in every implementation, before any work."""

import numpy as np
import pytest
from implementations import IMPLEMENTATIONS

from backprop_suite.core import TrainConfig, init_params, load_params, save_params, xor_data

CFG = TrainConfig(steps=2)
X, Y = xor_data()
PARAMS = init_params(CFG)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"layers": (2,)}, "at least two widths"),
        ({"layers": (2, 0, 1)}, "positive integers"),
        ({"layers": (2, 3.5, 1)}, "positive integers"),
        ({"layers": 5}, "sequence of widths"),
        ({"activation": "softplus"}, "unknown activation 'softplus'"),
        ({"loss": "cross_entropy"}, "unknown loss 'cross_entropy'"),
        ({"init": "he"}, "unknown init 'he'"),
        ({"dtype": "float16"}, "unknown dtype 'float16'"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"learning_rate": -1.0}, "learning_rate must be positive"),
        ({"learning_rate": float("nan")}, "learning_rate must be positive and finite"),
        ({"learning_rate": float("inf")}, "learning_rate must be positive and finite"),
        ({"learning_rate": "1.0"}, "learning_rate must be a number"),
        ({"learning_rate": 1e39}, "learning_rate 1e\\+39 is not a positive finite float32"),
        ({"learning_rate": 1e-50}, "learning_rate 1e-50 is not a positive finite float32"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"steps": -5}, "steps must be a positive integer"),
        ({"steps": 2.5}, "steps must be a positive integer"),
        ({"batch_size": 0}, "batch_size"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_config_is_refused_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def without(key):
    return {k: v for k, v in PARAMS.items() if k != key}


def with_value(key, value):
    return {**PARAMS, key: value}


BAD_WEIGHTS = [
    (without("b2"), r"missing weight keys \['b2'\]"),
    ({**PARAMS, "m3": np.ones((1, 1))}, r"unexpected weight keys \['m3'\]"),
    (with_value("m1", np.ones((3, 2))), r"weight m1 has shape \(3, 2\).*need \(2, 3\)"),
    (with_value("b1", np.ones(4)), r"weight b1 has shape \(4,\)"),
    (with_value("m2", np.array([[np.nan], [0.2], [0.3]])), "weight m2 contains NaN or inf"),
    (with_value("b2", np.array([np.inf])), "weight b2 contains NaN or inf"),
    (with_value("m1", np.array([["a", "b", "c"], ["d", "e", "f"]])), "weight m1 must hold real"),
    ([1, 2, 3], "params must be a dict"),
]

BAD_DATA = [
    (np.ones((4, 3)), Y, r"x has shape \(4, 3\).*need \(samples, 2\)"),
    (X, np.ones((4, 2)), r"y has shape \(4, 2\).*need \(samples, 1\)"),
    (X[:, 0], Y, r"x has shape \(4,\)"),
    (X, Y[:3], "x has 4 samples but y has 3"),
    (np.zeros((0, 2)), np.zeros((0, 1)), "x has no samples"),
    (np.where(X == 1, np.nan, X), Y, "x contains NaN or inf"),
    (X, np.where(Y == 1, np.inf, Y), "y contains NaN or inf"),
]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("params,message", BAD_WEIGHTS)
def test_bad_weights_are_refused(name, params, message):
    impl = IMPLEMENTATIONS[name]
    for call in (
        lambda: impl.train(params, X, Y, CFG),
        lambda: impl.loss_and_grads(params, X, Y, CFG),
        lambda: impl.forward(params, X, CFG),
    ):
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("x,y,message", BAD_DATA)
def test_bad_data_is_refused(name, x, y, message):
    impl = IMPLEMENTATIONS[name]
    with pytest.raises(ValueError, match=message):
        impl.train(PARAMS, x, y, CFG)
    with pytest.raises(ValueError, match=message):
        impl.loss_and_grads(PARAMS, x, y, CFG)


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_a_config_that_is_not_a_trainconfig_is_refused(name):
    with pytest.raises(ValueError, match="cfg must be a TrainConfig"):
        IMPLEMENTATIONS[name].train(PARAMS, X, Y, {"layers": (2, 3, 1)})


def test_tf_port_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode 'graph'"):
        IMPLEMENTATIONS["tf"].train(PARAMS, X, Y, CFG, mode="graph")


@pytest.mark.parametrize(
    "contents, words",
    [
        (np.random.default_rng(0).bytes(4096), r"plain arrays \(it is not a zip file\)"),
        (b"", r"plain arrays \(it is not a zip file\)"),
        (b"\x80\x04\x95pickle", r"plain arrays \(it is not a zip file\)"),
        (
            {"m1": np.array([{"x": 1}], dtype=object)},
            "it holds Python objects, which are never loaded",
        ),
        ({"m1": np.array(["a"])}, "array 'm1' has dtype <U1, not numbers"),
    ],
)
def test_a_file_that_is_not_an_npz_of_plain_arrays_is_refused_as_that(tmp_path, contents, words):
    path = tmp_path / "weights.npz"
    if isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        np.savez(path, **contents)
    with pytest.raises(ValueError, match=words) as refused:
        load_params(path, CFG)
    assert "pickle" not in str(refused.value)  # never a word on loading it unsafely


def test_loading_weights_checks_the_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_params(tmp_path / "absent.npz", CFG)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"not an .npz archive of plain arrays \(a damaged zip"):
        load_params(corrupt, CFG)
    with pytest.raises(ValueError, match="is a directory"):
        load_params(tmp_path, CFG)
    single = tmp_path / "single.npy"
    np.save(single, PARAMS["m1"])
    with pytest.raises(ValueError, match="holds a single array"):
        load_params(single, CFG)
    wrong = tmp_path / "wrong.npz"
    save_params(wrong, without("m2"))
    with pytest.raises(ValueError, match=r"missing weight keys \['m2'\]"):
        load_params(wrong, CFG)
