"""``backprop_suite.gradcheck`` as a user's test meets it: correct models pass in float32 and
float64, each classic wrong gradient fails in full and in fast mode with the variable named,
and kinks are reported, not failed. The wrong gradients are ``tf.custom_gradient``s whose
forward pass is right, so only the gradient can be caught."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from backprop_suite.bench.gradcheck_anchors import WRONG, inputs, tf_functions
from backprop_suite.bench.gradcheck_fast import doubled_layer
from backprop_suite.gradcheck import (
    GradientMismatch,
    check_function_gradients,
    check_model_gradients,
)
from backprop_suite.gradcheck.check import Variable, projected
from backprop_suite.seeds import seeded
from backprop_suite.verify.tolerances import GRADCHECK


def data(seed: int, shape=(6, 3)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=(shape[0], 2))


def mlp(dtype: str, seed: int) -> keras.Model:
    with seeded(seed):
        return keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(5, activation="tanh", dtype=dtype, name="hidden"),
                keras.layers.Dense(2, dtype=dtype, name="out"),
            ],
            name="mlp",
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_correct_model_passes_and_the_report_names_every_variable(dtype):
    x, y = data(0)
    loss = keras.losses.MeanSquaredError(dtype=dtype)
    report = check_model_gradients(mlp(dtype, 0), x, y, loss)
    names = ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]
    assert [v.name for v in report.variables] == [f"mlp/{name}" for name in names]
    assert all(v.worst <= 1 for v in report.variables) and report.dtype == dtype


USERS_MODEL = """
import keras
import numpy as np

from backprop_suite.bench.gradcheck_fast import doubled_layer

rng = np.random.default_rng(0)
x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))


def build_model():
    keras.utils.set_random_seed(0)
    last = LAST
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, "tanh"), last], name="net")
"""

README_TEST = """from backprop_suite.gradcheck import check_model_gradients
from {module} import build_model, x, y

def test_my_model_has_the_right_gradients():
    check_model_gradients(build_model(), x, y, "mse")
"""


@pytest.mark.slow
def test_the_readmes_three_lines_in_a_users_pytest_file_pass_or_fail_naming_the_variable(
    tmp_path,
):
    """The README's test, after the import of the user's own model, run by pytest: it passes
    for a right model and fails for a kernel whose custom gradient is doubled, naming it."""
    import subprocess
    import sys

    layers = {
        "right": 'keras.layers.Dense(2, name="out")',
        "wrong": 'doubled_layer()(2, name="doubled")',
    }
    for module, last in layers.items():
        (tmp_path / f"{module}.py").write_text(USERS_MODEL.replace("LAST", last))
        (tmp_path / f"test_{module}.py").write_text(README_TEST.format(module=module))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "test_wrong.py::test_my_model_has_the_right_gradients" in done.stdout
    assert "GradientMismatch: net/doubled/kernel[" in done.stdout


def test_a_float64_model_with_a_float32_loss_is_held_to_float32s_bound():
    """A Keras loss computes in floatx unless given its dtype: the gradients are float32's."""
    x, y = data(0)
    report = check_model_gradients(mlp("float64", 0), x, y, keras.losses.MeanSquaredError())
    assert report.dtype == "float32"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_false_alarm_over_seeds_of_a_float32_or_float64_model(dtype):
    """Ten seeds here; docs/gradcheck.md gives the rate over 100."""
    for seed in range(10):
        x, y = data(seed)
        loss = keras.losses.MeanSquaredError(dtype=dtype)
        assert check_model_gradients(mlp(dtype, seed), x, y, loss).dtype == dtype


class Tied(keras.layers.Layer):
    """One kernel used twice: x W then (x W) Wᵀ, as a tied autoencoder uses it."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2), name="w")

    def call(self, x):
        return tf.matmul(tf.tanh(tf.matmul(x, self.w)), self.w, transpose_b=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_lstm_and_a_tied_weight_pass(dtype, global_seed):
    rng = np.random.default_rng(1)
    global_seed(1)
    conv = keras.Sequential(
        [
            keras.Input((5, 5, 1)),
            keras.layers.Conv2D(2, 3, activation="tanh", dtype=dtype),
            keras.layers.Flatten(dtype=dtype),
            keras.layers.Dense(1, dtype=dtype),
        ]
    )
    check_model_gradients(
        conv,
        rng.normal(size=(2, 5, 5, 1)),
        rng.normal(size=(2, 1)),
        keras.losses.MeanSquaredError(),
    )
    lstm = keras.Sequential([keras.Input((3, 2)), keras.layers.LSTM(2, dtype=dtype)])
    check_model_gradients(
        lstm, rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 2)), keras.losses.MeanSquaredError()
    )
    tied = keras.Sequential([keras.Input((3,)), Tied(dtype=dtype)])
    check_model_gradients(
        tied, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), keras.losses.MeanSquaredError()
    )


# the five wrong custom gradients, defined once for this test and the measurement beside the
# other checkers (backprop_suite.bench.gradcheck_anchors): twice the rule, its sign flipped, a
# transposed matmul gradient, a product-rule term dropped, a mean's 1/n left out; only the
# transposed one is wrong in its second argument
FUNCTIONS = tf_functions()
NAMED = {"transposed": "argument 1"}


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("case", WRONG)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_wrong_gradient_fails_naming_the_argument_in_full_and_fast_mode(case, fast, dtype):
    with pytest.raises(GradientMismatch) as caught:
        check_function_gradients(FUNCTIONS[case], *inputs(case, dtype), fast=fast)
    message = str(caught.value)
    assert (
        message.startswith(NAMED.get(case, "argument 0"))
        and "analytic" in message
        and "numeric" in message
    )
    assert "tolerance" in message and isinstance(caught.value, AssertionError)


# Dense with a kernel whose custom gradient is twice the true one, defined once for these tests
# and the measurement of fast mode on a million weights (backprop_suite.bench.gradcheck_fast)
Doubled = doubled_layer()


def test_a_wrong_gradient_in_a_models_layer_is_named_by_its_path():
    model = keras.Sequential([keras.Input((3,)), Doubled(name="doubled")], name="net")
    x, y = data(3)
    with pytest.raises(GradientMismatch, match=r"^net/doubled/kernel\[\d+, \d+\]: analytic"):
        check_model_gradients(model, x, y, keras.losses.MeanSquaredError())


def test_fast_mode_narrows_a_large_wrong_variable_by_halves_to_an_element():
    """A 64 x 64 kernel (4096 elements, over FULL_AT): its failed projection is followed down
    the worse half to 256 elements, which are checked in full, and the index is named."""
    model = keras.Sequential([keras.Input((64,)), Doubled(64, name="doubled")], name="net")
    x, y = data(3, (6, 64))
    with pytest.raises(GradientMismatch) as caught:
        check_model_gradients(model, x, np.tile(y, 32), keras.losses.MeanSquaredError(), fast=True)
    message = str(caught.value)
    assert (
        message.startswith("net/doubled/kernel[")
        and "full check of 256 of 4096 elements" in message
    )


def test_a_projection_catches_a_doubled_gradient_of_a_million_elements():
    """Held to rtol · Σ|vᵢgᵢ|, the projection of a doubled gradient passed in 9 of these 10
    seeds at a million elements (one direction each): that sum grows √n times faster than vᵀg.
    Held to the root sum of squares it fails in every seed, and the right gradient, rounded to
    float32, passes."""
    rng = np.random.default_rng(1)
    slope = rng.normal(size=1_000_000) * 0.01
    objective = lambda w: float(slope @ w)  # noqa: E731
    doubled = Variable("w", np.zeros(slope.size), 2 * slope, objective)
    right = Variable("w", np.zeros(slope.size), slope.astype(np.float32), objective)
    bound = GRADCHECK["float32"]
    for seed in range(10):
        assert projected(doubled, bound, np.random.default_rng(seed)) > 1
        assert projected(right, bound, np.random.default_rng(seed)) <= 1


def test_kinks_are_reported_and_not_failed():
    """ReLU and abs at exactly 0, a max over a tie and a max-pool window with one: the
    one-sided slopes differ there."""
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    report = check_function_gradients(tf.nn.relu, x)
    assert report.variables[0].kinks == [(1,), (3,)]
    report = check_function_gradients(tf.abs, x)
    assert report.variables[0].kinks == [(1,), (3,)]
    tie = np.array([[1.0, 1.0, 0.5]])
    report = check_function_gradients(lambda v: tf.reduce_max(v, axis=1), tie)
    assert report.variables[0].kinks == [(0, 0), (0, 1)]
    smooth = check_function_gradients(tf.sin, x)
    assert smooth.variables[0].kinks == []
    # a 2 x 2 max-pool window with two equal largest values; the other window's largest is 0.9
    image = np.array([[1.0, 1.0, 0.2, 0.7], [0.3, 0.5, 0.9, 0.1]]).reshape(1, 2, 4, 1)
    pooled = check_function_gradients(lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID"), image)
    assert pooled.variables[0].kinks == [(0, 0, 0, 0), (0, 0, 1, 0)]


def test_a_kink_a_few_millionths_from_the_point_is_stepped_around_not_averaged():
    """A kink 2.5e-6 from the point, its jump below the bound of the slope: the stencils at
    h = 1e-3 and 1e-4 both hold it and agree on the mean of the two sides, half the jump away
    from the slope at the point, 2.6 times the bound of an element this small; only the
    one-sided slopes show it (so a ReLU conv net failed in 4 of 100 float32 seeds)."""
    near = lambda v: 0.05 * v + 1e-3 * tf.nn.relu(v - 2.5e-6)  # noqa: E731
    report = check_function_gradients(near, np.zeros(1, np.float32))
    assert report.variables[0].kinks == [] and report.variables[0].step < 2e-6
    on_it = check_function_gradients(near, np.full(1, 2.5e-6))
    assert on_it.variables[0].kinks == [(0,)]


def test_bad_arguments_are_a_value_error_naming_them():
    with pytest.raises(ValueError, match="at least one argument"):
        check_function_gradients(tf.sin)
    with pytest.raises(ValueError, match="argument 0 is int64"):
        check_function_gradients(tf.sin, np.array([1, 2]))
    with pytest.raises(ValueError, match="does not run on float64"):
        check_function_gradients(lambda v: v * tf.constant(2.0, tf.float32), np.ones(2, np.float32))
    x, y = data(0)
    with pytest.raises(ValueError, match="'nope' is not a Keras loss"):
        check_model_gradients(mlp("float32", 0), x, y, "nope")
    in_float32 = lambda t, p: tf.cast(tf.reduce_mean((t - p) ** 2), tf.float32)  # noqa: E731
    with pytest.raises(ValueError, match="the loss is float32 on the float64 copy"):
        check_model_gradients(mlp("float32", 0), x, y, in_float32)


@tf.custom_gradient
def square_with_a_frozen_gradient(x):
    """x², its first derivative right (2x) but held constant: its own derivative is 0, not 2."""
    return x * x, lambda up: up * tf.stop_gradient(2 * x)


def test_second_order_checks_a_hessian_vector_product():
    x = np.array([0.3, -1.2, 2.0])
    report = check_function_gradients(lambda v: tf.sin(v) * v, x, order=2)
    assert [v.name for v in report.variables] == ["argument 0", "argument 0 (Hessian-vector)"]
    check_function_gradients(square_with_a_frozen_gradient, x)  # first order: right
    with pytest.raises(GradientMismatch, match=r"^argument 0 \(Hessian-vector\)"):
        check_function_gradients(square_with_a_frozen_gradient, x, order=2)


def test_second_order_steps_around_a_relu_turning_along_the_direction():
    """ReLU's gradient jumps where a unit turns: 1e-5 and -2e-5 turn within the first stencil
    along v (a step of 1e-3), which made the Hessian-vector product's differences huge where the
    nested tapes give 0 (the gallery's ReLU nets failed order 2 in 2 and 4 of 5 seeds). The step
    shrinks around them; a unit at exactly 0 is a kink."""
    w = np.array([1e-5, -2e-5, 0.5, 0.0])
    report = check_function_gradients(tf.nn.relu, w, order=2)
    hessian = report.variables[-1]
    assert hessian.name == "argument 0 (Hessian-vector)" and hessian.kinks == [(3,)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_second_order_of_a_model(dtype, global_seed):
    """The model's loss's Hessian-vector product, after its regularizer too."""
    global_seed(4)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, "tanh", dtype=dtype, kernel_regularizer="l2", name="hidden"),
            keras.layers.Dense(2, dtype=dtype, name="out"),
        ],
        name="net",
    )
    x, y = data(4)
    loss = keras.losses.MeanSquaredError(dtype=dtype)
    report = check_model_gradients(model, x, y, loss, order=2)
    names = [v.name for v in report.variables]
    assert names[4:] == [f"{name} (Hessian-vector)" for name in names[:4]]


def test_a_float32_model_compiled_with_a_loss_function_of_its_own_is_cloned():
    """Keras's clone_model compiles the copy from the model's config, which cannot find a
    function defined in a user's file: the float64 copy is made uncompiled."""

    def mean_of_squares(y_true, y_pred):
        return tf.reduce_mean(tf.square(y_true - y_pred))

    model = mlp("float32", 5)
    model.compile(optimizer="sgd", loss=mean_of_squares)
    x, y = data(5)
    assert check_model_gradients(model, x, y, mean_of_squares).dtype == "float32"
    assert model.compiled


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_relu_net_whose_units_turn_within_the_stencil_passes(dtype, global_seed):
    """ReLU units whose pre-activation is within a step of 0 make the five-point slope at that
    step wrong (a kink inside the stencil): the step shrinks until two agree. Before it did,
    the gallery's ReLU MLP failed in every one of 10 seeds."""
    rng = np.random.default_rng(6)
    for seed in range(3):
        global_seed(seed)
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu", dtype=dtype),
                keras.layers.Dense(3, dtype=dtype),
            ]
        )
        x, y = rng.normal(size=(12, 8)), np.eye(3)[rng.integers(0, 3, 12)]
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, dtype=dtype)
        check_model_gradients(model, x, y, loss)
