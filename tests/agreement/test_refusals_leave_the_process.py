"""Every public entry point, given input it refuses, raises its ``ValueError`` and leaves the
process as it found it (``tests/process_state.py``: TensorFlow's variable scope, graph, seed and
configuration, Keras's floatx and policy, the environment, the paths, the signal handlers).
After the refusals, in the same process, ``tf.distribute``, Keras and a second call of each
entry point on good input still work: a refused gradient check once left the global variable
scope's caching device set (``tf.map_fn`` traced in a ``tf.function`` whose function raised),
and every ``strategy.scope()`` in the process failed after it."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from optional import needs
from process_state import changes, snapshot

from backprop_suite import TrainConfig, init_params, load_implementation, xor_data
from backprop_suite.gradcheck import check_function_gradients, check_model_gradients
from backprop_suite.migration import Options, check_migration
from backprop_suite.migration.conversion.convert import convert_checkpoint
from backprop_suite.migration.tf1.old_program import old_program
from backprop_suite.migration.tf1.save import run_save

SEED_XOR = Path(__file__).resolve().parents[2] / "examples" / "migrations" / "seed_xor"
IMPLEMENTATIONS = [
    "manual",
    "tf",
    "keras",
    "tf1",
    pytest.param("keras-jax", marks=needs("jax")),
    pytest.param("keras-torch", marks=needs("torch")),
]
IN_THIS_PROCESS = ("manual", "tf", "keras", "tf1")  # the others train in a child process


def refused(call, match: str) -> None:
    """``call()`` raises a ValueError matching ``match`` and changes nothing global."""
    before = snapshot()
    with pytest.raises(ValueError, match=match):
        call()
    assert changes(before, snapshot()) == []


def the_process_still_works() -> None:
    """A variable made under a strategy, and a Keras model trained a step."""
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        mirrored = tf.Variable(1.0)
    assert float(mirrored.numpy()) == 1.0
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = xor_data()
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def small_model() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])


def test_a_refused_gradient_check_leaves_the_process_working():
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    y = np.linspace(0, 1, 8).reshape(4, 2)
    in_float32 = lambda t, p: tf.cast(tf.reduce_sum((t - p) ** 2), tf.float32)  # noqa: E731
    refused(
        lambda: check_model_gradients(small_model(), x, y, in_float32),
        "the loss is float32 on the float64 copy",
    )
    refused(
        lambda: check_function_gradients(
            lambda v: v * tf.constant(2.0, tf.float32), x[0].astype(np.float32)
        ),
        "does not run on float64",
    )
    assert tf.compat.v1.get_variable_scope().caching_device is None
    the_process_still_works()
    check_model_gradients(small_model(), x, y, "mse")
    check_function_gradients(tf.sin, x[0])


def test_a_refused_migration_check_and_conversion_leave_the_process_working(tmp_path):
    port = tmp_path / "port.py"
    port.write_text("def tf2_program():\n    return {}\n")
    refused(
        lambda: check_migration(str(SEED_XOR / "tf1.py"), str(port), Options(steps=2)),
        "tf2_program\\(\\) must return",
    )
    refused(
        lambda: convert_checkpoint(
            str(tmp_path / "nothing"), str(SEED_XOR / "keras3.py"), str(tmp_path / "o.keras")
        ),
        "no such checkpoint",
    )
    the_process_still_works()
    report = check_migration(
        str(SEED_XOR / "tf1.py"), str(SEED_XOR / "keras3.py"), Options(steps=2)
    )
    assert report.agrees, report.text()
    checkpoint = run_save(old_program(SEED_XOR / "tf1.py"), 2, str(tmp_path / "ckpt" / "model"))
    conversion = convert_checkpoint(
        checkpoint, str(SEED_XOR / "keras3.py"), str(tmp_path / "seed.keras")
    )
    assert (tmp_path / "seed.keras").exists() and conversion.carried


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_a_refused_training_leaves_the_process_working(name):
    cfg = TrainConfig(steps=3)
    x, y = xor_data()
    params = init_params(cfg)
    broken = {**params, "m1": np.full_like(params["m1"], np.nan)}
    implementation = load_implementation(name)
    refused(lambda: implementation.train(broken, x, y, cfg), "NaN|finite")
    the_process_still_works()
    if name in IN_THIS_PROCESS:  # a child's second run would say nothing of this process
        assert np.isfinite(implementation.train(params, x, y, cfg).final_loss)
