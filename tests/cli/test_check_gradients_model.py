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
