"""``check_gradients.py MODEL.py``: a user's model file checked from the command line, exit 0
for right gradients, 1 naming the wrong one, 2 for a file that defines too little."""

from __future__ import annotations

import json

from script_runner import load, one_error_line, run_in_process

RIGHT = """
import keras
import numpy as np


def model():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                            keras.layers.Dense(1, name="out")], name="net")
    net.compile(loss="mse")
    return net


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
"""

WRONG = """
import keras
import numpy as np
import tensorflow as tf


class Doubled(keras.layers.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 1), name="kernel")

    def call(self, x):
        @tf.custom_gradient
        def forward(x, kernel):
            def grad(up):
                doubled = 2 * tf.matmul(x, up, transpose_a=True)
                return tf.matmul(up, kernel, transpose_b=True), doubled
            return tf.matmul(x, kernel), grad
        return forward(x, tf.convert_to_tensor(self.kernel))


def model():
    return keras.Sequential([keras.Input((3,)), Doubled(name="doubled")], name="net")


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 1))


def loss():
    return keras.losses.MeanSquaredError()
"""

FROZEN = """
import keras
import numpy as np
import tensorflow as tf


class Squared(keras.layers.Layer):
    def call(self, z):
        @tf.custom_gradient
        def square(z):
            return z * z, lambda up: up * tf.stop_gradient(2 * z)
        return square(z)


def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense"), Squared()],
                            name="net")


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 2))


def loss():
    return keras.losses.MeanSquaredError()
"""

check_gradients = load("check_gradients")


def test_a_users_model_file_passes_or_fails_naming_the_variable(tmp_path):
    (tmp_path / "right.py").write_text(RIGHT)
    (tmp_path / "wrong.py").write_text(WRONG)
    done = run_in_process(check_gradients, tmp_path / "right.py", "--json", "-")
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert found["agrees"] and [v["name"] for v in found["variables"]][-1] == "net/out/bias"
    done = run_in_process(check_gradients, tmp_path / "right.py", "--fast")
    assert done.returncode == 0 and "projection" in done.stdout, done.stdout + done.stderr
    done = run_in_process(check_gradients, tmp_path / "right.py", "--training", "--json", "-")
    assert done.returncode == 0 and json.loads(done.stdout)["training"], done.stderr
    done = run_in_process(check_gradients, tmp_path / "wrong.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("DISAGREES: net/doubled/kernel[")


def test_a_file_that_defines_too_little_is_one_error_line(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    line = one_error_line(run_in_process(check_gradients, tmp_path / "empty.py"))
    assert "defines no function model()" in line
    line = one_error_line(run_in_process(check_gradients, tmp_path / "absent.py"))
    assert "no such file" in line
    (tmp_path / "uncompiled.py").write_text(RIGHT.replace('    net.compile(loss="mse")\n', ""))
    line = one_error_line(run_in_process(check_gradients, tmp_path / "uncompiled.py"))
    assert "define loss(), or compile model() with a loss" in line


def test_order_2_finds_a_custom_gradient_that_is_right_but_not_differentiable(tmp_path):
    (tmp_path / "frozen.py").write_text(FROZEN)
    done = run_in_process(check_gradients, tmp_path / "frozen.py")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_in_process(check_gradients, tmp_path / "frozen.py", "--order", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("DISAGREES: net/dense/kernel (Hessian-vector)[")
    (tmp_path / "right.py").write_text(RIGHT)
    done = run_in_process(check_gradients, tmp_path / "right.py", "--order", "2", "--json", "-")
    assert done.returncode == 0, done.stdout + done.stderr
    names = [v["name"] for v in json.loads(done.stdout)["variables"]]
    assert "net/out/bias (Hessian-vector)" in names


def test_the_options_of_a_model_check_are_refused_without_a_model_and_checked_before_work(
    tmp_path,
):
    for option in (
        ["--fast"],
        ["--training"],
        ["--seed", "0"],
        ["--order", "2"],
        ["--backends", "jax"],
    ):
        line = one_error_line(run_in_process(check_gradients, *option))
        assert line == f"error: {option[0]}: only with a MODEL.py to check"
    (tmp_path / "right.py").write_text(RIGHT)
    for given, expected in (("theano", "backends must be among"), (",", "names no backend")):
        line = one_error_line(
            run_in_process(check_gradients, tmp_path / "right.py", "--backends", given)
        )
        assert expected in line
