"""``check_model_gradients(..., backends=...)``: the same Keras 3 model's gradients on JAX and
PyTorch, each in a process of its own, against TensorFlow's, at each backend's bound with the
reason named where it is not the dtype's own."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from fixtures.gradcheck.own_layers import Scaled, mean_of_squares
from optional import needs
from script_runner import load, run_in_process

from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
from backprop_suite.gradcheck import backends as across
from backprop_suite.seeds import seeded
from backprop_suite.verify.tolerances import within

check_gradients = load("check_gradients")


def model_and_data(dtype: str):
    with seeded(0):
        model = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, activation="tanh", dtype=dtype, name="hidden"),
                keras.layers.Dense(2, dtype=dtype, name="out"),
            ],
            name="net",
        )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(5, 2)).astype(dtype)
    return model, x, y, keras.losses.MeanSquaredError(dtype=dtype)


@needs("torch")
@pytest.mark.slow
def test_the_three_backends_agree_and_float64_on_jax_and_torch_is_named_not_hidden(monkeypatch):
    model, x, y, loss = model_and_data("float64")
    found = {}
    taken = across.backend_gradients

    def kept(folder, backend, dtype):
        found[backend] = taken(folder, backend, dtype)
        return found[backend]

    monkeypatch.setattr(across, "backend_gradients", kept)
    report = check_model_gradients(model, x, y, loss, backends=("tensorflow", "jax", "torch"))
    assert set(report.backends) == {"jax", "torch"}
    assert "JAX tanh and mean compute float64 in float32" in report.backends["jax"]
    assert "keras-team/keras#23704" in report.backends["torch"]
    # the wider bound is needed: at float64's own, JAX's gradients (the same ones, taken from
    # the children above rather than from two more) are outside it
    monkeypatch.setattr(across, "backend_gradients", lambda folder, backend, dtype: found[backend])
    wide, why = across.ACROSS_BACKENDS[("jax", "float64")]
    monkeypatch.setitem(across.ACROSS_BACKENDS, ("jax", "float64"), (within(1e-12), why))
    with pytest.raises(GradientMismatch, match=r"^net/hidden/kernel\[\d+, \d+\] on jax: "):
        check_model_gradients(model, x, y, loss, backends=("tensorflow", "jax"))


@pytest.mark.slow
def test_a_model_of_the_users_own_module_with_dropout_in_training_agrees_on_jax(global_seed):
    # the child imports own_layers for the registered layer and the loss function; the
    # dropout's mask, drawn once in this process, is replayed on each backend (JAX's own draw
    # from the same seed keeps other units, and its gradients part at once)
    global_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh", name="hidden"),
            keras.layers.Dropout(0.5),
            Scaled(name="scaled"),
            keras.layers.Dense(2, name="out"),
        ],
        name="net",
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = check_model_gradients(model, x, y, mean_of_squares, training=True, backends=("jax",))
    assert "from TensorFlow's, within" in report.backends["jax"]


@pytest.mark.slow
def test_the_children_call_the_model_in_the_training_mode_of_the_check(monkeypatch, global_seed):
    # BatchNormalization normalizes by the batch's statistics in training mode and by its moving
    # ones (0 and 1 at first) otherwise: TensorFlow's gradients of the saved model, read with
    # the setup every child reads, are the tape's of model(x, training=False), not of True
    global_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh", dtype="float64", name="hidden"),
            keras.layers.BatchNormalization(dtype="float64", name="norm"),
            keras.layers.Dense(2, dtype="float64", name="out"),
        ],
        name="net",
    )
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    loss = keras.losses.MeanSquaredError(dtype="float64")
    taken, found = across.here_on_tensorflow, []

    def kept(*args):
        found.append(taken(*args))
        return found[-1]

    monkeypatch.setattr(across, "here_on_tensorflow", kept)
    check_model_gradients(model, x, y, loss, backends=("tensorflow",))
    tape = {}
    for training in (False, True):
        with tf.GradientTape() as recorded:
            value = loss(y, model(x, training=training))
        tape[training] = recorded.gradient(value, model.trainable_variables)
    hidden_kernel = 0
    assert not np.allclose(tape[True][hidden_kernel], tape[False][hidden_kernel], rtol=1e-3)
    for child, own in zip(found[0], tape[False]):
        np.testing.assert_allclose(child, own.numpy(), rtol=1e-12, atol=1e-14)


def test_a_loss_no_other_process_can_import_is_refused_before_any_child(monkeypatch):
    model, x, y, _ = model_and_data("float32")

    def never(*args):
        raise AssertionError("a child was started")

    def local_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    monkeypatch.setattr(across, "backend_gradients", never)
    with pytest.raises(ValueError, match="the loss is a lambda: .* define it with def at the top"):
        check_model_gradients(model, x, y, lambda t, p: (t - p) ** 2, backends=("jax",))
    with pytest.raises(ValueError, match="the loss test_a_loss_no_other_process_can_import_is_"):
        check_model_gradients(model, x, y, local_loss, backends=("jax",))


def test_an_unknown_backend_is_a_value_error():
    model, x, y, loss = model_and_data("float32")
    with pytest.raises(ValueError, match="backends must be among"):
        check_model_gradients(model, x, y, loss, backends=("theano",))


@pytest.mark.slow
def test_the_command_line_checks_a_model_file_on_another_backend(tmp_path):
    # the file's own layer and loss function: the child imports the file itself
    (tmp_path / "net.py").write_text(
        "import keras\nimport numpy as np\n\n"
        "@keras.saving.register_keras_serializable(package='mine')\n"
        "class Shifted(keras.layers.Layer):\n"
        "    def build(self, input_shape):\n"
        "        self.shift = self.add_weight(shape=(input_shape[-1],), name='shift')\n\n"
        "    def call(self, x):\n"
        "        return x + self.shift\n\n"
        "def model():\n"
        "    keras.utils.set_random_seed(0)\n"
        "    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name='out'),"
        " Shifted()], name='net')\n\n"
        "def data():\n"
        "    rng = np.random.default_rng(0)\n"
        "    return rng.normal(size=(4, 3)), rng.normal(size=(4, 2))\n\n"
        "def squares(y_true, y_pred):\n"
        "    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)\n\n"
        "def loss():\n"
        "    return squares\n"
    )
    done = run_in_process(check_gradients, tmp_path / "net.py", "--backends", "jax", "--json", "-")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "from TensorFlow's, within" in json.loads(done.stdout)["backends"]["jax"]
