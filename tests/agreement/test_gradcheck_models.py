"""check_model_gradients on the models people build: the field models (each correct one passes,
each planted bug is caught and named), the float64 reference all the way down, random draws
shared by every side, the model left as given, and the refusals that name the problem."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from backprop_suite.bench.gradcheck_field import FIELD, field_module, outcome
from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
from backprop_suite.gradcheck.reference import dtype_policy as policy
from backprop_suite.seeds import seeded

FIELD_MODELS = sorted(p.stem for p in FIELD.glob("*.py") if p.stem != "planted")


def case_of(position: int, policies: tuple[str, ...]) -> tuple[str, bool, bool]:
    """One of a field model's cases here, turn by turn across the models: the right model or
    its bug, in one of its policies, full or fast, so that every policy and mode meets both
    right models and bugs; ``python -m backprop_suite.bench.gradcheck_field`` runs them all."""
    return policies[(position // 4) % len(policies)], position % 4 >= 2, position % 2 == 1


@pytest.mark.parametrize("stem", FIELD_MODELS)
def test_a_field_model_passes_right_or_its_bug_is_caught_and_named(stem):
    with field_module(FIELD / f"{stem}.py") as module:
        policies = getattr(module, "POLICIES", ("float32", "float64"))
        name, fast, bug = case_of(FIELD_MODELS.index(stem), policies)
        found = outcome(module, name, fast, bug)
        assert found in ("passed", "caught", "no bug planted"), (name, fast, bug, found)


def test_the_field_holds_twelve_models_written_from_the_docs_alone():
    written = [s for s in FIELD_MODELS if s.startswith("docs_")]
    assert len(written) >= 12 and len(FIELD_MODELS) >= 20


def regression(dtype: str | None = None, seed: int = 0) -> keras.Model:
    with seeded(seed):
        return keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, activation="tanh", dtype=dtype, name="hidden"),
                keras.layers.Dense(1, dtype=dtype, name="out"),
            ],
            name="regression",
        )


def rows(n: int = 6, outputs: int = 1, seed: int = 3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, outputs))


def everything_in(model) -> list[np.ndarray]:
    return [np.array(v.numpy(), copy=True) for v in model.variables]


def test_a_model_with_dropout_and_batchnorm_in_training_is_left_exactly_as_given():
    with seeded(4):
        model = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(5, name="hidden"),
                keras.layers.BatchNormalization(name="norm"),
                keras.layers.Dropout(0.4),
                keras.layers.Dense(1, name="out"),
            ]
        )
    x, y = rows()
    before = everything_in(model)
    check_model_gradients(model, x, y, "mse", training=True)
    after = everything_in(model)
    assert any("seed_generator_state" in v.path for v in model.variables)
    assert any("moving_mean" in v.path for v in model.variables)
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


class DrawsItsOwn(keras.layers.Layer):
    """Noise drawn with tf.random, outside keras.random: the check cannot draw it again."""

    def call(self, x, training=False):
        return x + tf.random.normal(tf.shape(x), dtype=x.dtype) if training else x


def test_a_layer_that_draws_with_tf_random_is_refused_not_judged():
    model = keras.Sequential([keras.Input((3,)), DrawsItsOwn(), keras.layers.Dense(1)])
    x, y = rows()
    with pytest.raises(ValueError, match="outside keras.random"):
        check_model_gradients(model, x, y, "mse", training=True)


class FixedFloat32(keras.layers.Layer):
    """A layer that builds a sublayer of a fixed dtype: its float64 copy stays float32."""

    def __init__(self, inner_dtype: str = "float32", **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(2, activation="tanh", dtype=inner_dtype, name="inner")

    def call(self, x):
        return self.inner(x)


def test_a_copy_that_stays_float32_is_refused_and_reference_builds_it_in_float64():
    def build(dtype: str) -> keras.Model:
        with seeded(5), policy(dtype):
            block = FixedFloat32(dtype, name="block")
            return keras.Sequential([keras.Input((3,)), block, keras.layers.Dense(1)], name="m")

    x, y = rows()
    with pytest.raises(ValueError, match=r"block/inner.*float32.*reference="):
        check_model_gradients(build("float32"), x, y, "mse")
    report = check_model_gradients(
        build("float32"), x, y, "mse", reference=lambda: build("float64")
    )
    assert report.dtype == "float32"


def test_a_reference_of_another_shape_is_refused_listing_both_sides():
    x, y = rows()

    def other() -> keras.Model:
        with policy("float64"):
            return keras.Sequential(
                [keras.Input((3,)), keras.layers.Dense(6), keras.layers.Dense(1)]
            )

    with pytest.raises(ValueError, match=r"the model has .*hidden/kernel \(3, 4\).*the copy has"):
        check_model_gradients(regression(), x, y, "mse", reference=other)


class RoundsToFloat32(keras.layers.Layer):
    """The identity in float32; in a float64 copy it rounds to float32 on the way, which no
    dtype shows: the reference is not float64 all the way down."""

    def call(self, x):
        return tf.cast(tf.cast(x, tf.float32), x.dtype)


def test_a_reference_that_rounds_to_float32_inside_fails_instead_of_passing_on_kinks():
    with seeded(6):
        model = keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, activation="tanh"),
                RoundsToFloat32(),
                keras.layers.Dense(1),
            ]
        )
    x, y = rows()
    with pytest.raises((ValueError, GradientMismatch), match="kink|times the tolerance"):
        check_model_gradients(model, x, y, "mse")


def test_an_unbuilt_model_is_refused_saying_how_to_build_it():
    model = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="not built: call it on a batch or give it an Input"):
        check_model_gradients(model, *rows(), "mse")


@pytest.mark.parametrize("loss", ["mse", lambda y, p: tf.reduce_mean((y - p) ** 2)])
def test_a_y_that_broadcasts_against_the_outputs_is_refused_naming_both_shapes(loss):
    x, y = rows(outputs=3)
    with pytest.raises(ValueError, match=r"y of shape \(6, 3\) against outputs of shape \(6, 1\)"):
        check_model_gradients(regression(), x, y, loss)


def test_a_flat_y_against_one_output_is_fine_for_a_keras_loss_and_refused_for_a_function():
    x, y = rows()
    check_model_gradients(regression(), x, y[:, 0], "mse")
    with pytest.raises(ValueError, match=r"broadcast to \(6, 6\)"):
        check_model_gradients(regression(), x, y[:, 0], lambda t, p: tf.reduce_mean((t - p) ** 2))


def test_mixed_precision_is_judged_at_its_compute_dtype_and_named_by_both():
    with policy("mixed_float16"):
        model = regression()
    report = check_model_gradients(model, *rows(), "mse")
    assert report.dtype == "float16 compute, float32 variables"


def layer_normed(hand_written: bool) -> keras.Model:
    class HandNorm(keras.layers.Layer):
        def call(self, x):
            mean = tf.reduce_mean(x, -1, keepdims=True)
            variance = tf.reduce_mean(tf.square(x - mean), -1, keepdims=True)
            return (x - mean) / tf.sqrt(variance + 1e-3)

    norm = (
        HandNorm(name="norm")
        if hand_written
        else keras.layers.LayerNormalization(center=False, scale=False, name="norm")
    )
    with seeded(7):
        return keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, name="hidden", dtype="float64"),
                norm,
                keras.layers.Dense(1, name="out", dtype="float64"),
            ],
            name="normed",
        )


def test_order_2_through_layer_normalization_names_tensorflows_moments_and_the_layer():
    """tf.nn.moments stops the gradient of the mean: the second derivative is TensorFlow's
    fault, and the same layer written by hand passes."""
    x, y = rows()
    loss = keras.losses.MeanSquaredError(dtype="float64")
    check_model_gradients(layer_normed(True), x, y, loss, order=2)
    with pytest.raises(GradientMismatch, match=r"stop_gradient in .*norm.*tf\.nn\.moments"):
        check_model_gradients(layer_normed(False), x, y, loss, order=2)


def test_a_full_check_of_hours_is_refused_and_fast_auto_runs_it_fast():
    with seeded(8):
        model = keras.Sequential(
            [
                keras.Input((1000,)),
                keras.layers.Dense(1000, activation="tanh"),
                keras.layers.Dense(1),
            ]
        )
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(4, 1000)), rng.normal(size=(4, 1))
    with pytest.raises(ValueError, match=r"would take about .* hours.*fast=True"):
        check_model_gradients(model, x, y, "mse")
    report = check_model_gradients(model, x, y, "mse", fast="auto")
    assert {v.checked for v in report.variables} == {"projection"}


def test_no_retracing_warning_reaches_the_user_over_checks_in_a_loop(caplog):
    x, y = rows()
    with caplog.at_level("WARNING", logger="tensorflow"):
        for seed in range(7):
            check_model_gradients(regression(seed=seed), x, y, "mse")
    assert not [r for r in caplog.records if re.search("retracing", r.getMessage())]


class Unnamed(keras.layers.Layer):
    """A layer in the style of Keras's subclassing guide: add_weight with no name, so Keras
    numbers each variable anew at every build in the process."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2))
        self.b = self.add_weight(shape=(2,), initializer="zeros")

    def call(self, x):
        return tf.tanh(x @ self.w + self.b)


def test_a_reference_pairs_with_unnamed_variables_numbered_otherwise_and_its_errors_are_named():
    def build(name: str) -> keras.Model:
        with seeded(10), policy(name):
            return keras.Sequential([keras.Input((3,)), Unnamed(), keras.layers.Dense(1)])

    def broken() -> keras.Model:
        raise RuntimeError("no such layer")

    x, y = rows()
    report = check_model_gradients(
        build("float32"), x, y, "mse", reference=lambda: build("float64")
    )
    assert len(report.variables) == 4
    with pytest.raises(
        ValueError, match="your reference\\(\\) failed: RuntimeError: no such layer"
    ):
        check_model_gradients(build("float32"), x, y, "mse", reference=broken)


def test_a_relu_input_that_half_precision_rounds_onto_its_kink_is_refused_not_failed():
    """1.0002 x 1 − 1 x 1 is 0.0002 in float64 and exactly 0 in float16 (1.0002 rounds to 1):
    the unit is active in the float64 reference and at its kink in the model, whose ReLU passes
    no gradient there. The float64 copy's own tape agrees with the differences; nothing wrong
    with the model's gradient rule can be judged."""
    with policy("mixed_float16"):
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(1, activation="relu", name="unit"),
                keras.layers.Dense(1, name="out"),
            ],
            name="rounded",
        )
    model.set_weights([np.array([[1.0002], [-1.0]]), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    x, y = np.ones((3, 2)), np.full((3, 1), -1.0)
    with pytest.raises(ValueError, match=r"rounded/unit/.* cannot be judged in half precision"):
        check_model_gradients(model, x, y, "mse")
