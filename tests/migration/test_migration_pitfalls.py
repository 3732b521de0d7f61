"""The traps met porting the seed program, each shown failing the naive way (MIGRATION.md)."""

import keras
import numpy as np
import tensorflow as tf
from implementations import assert_identical

import tf_impl
from backprop_suite.core import TrainConfig, init_params, xor_data
from keras_impl.losses import keras_loss
from keras_impl.model import build_model, floatx, get_params


def keras_fit(params, x, y, cfg, loss, jit_compile=False, in_floatx=True):
    """A plain Keras run: SGD at cfg's rate, one fit epoch of cfg.steps full batches."""
    with floatx(cfg.dtype):
        model = build_model(params, cfg)
        model.compile(
            optimizer=keras.optimizers.SGD(cfg.learning_rate),
            loss=loss,
            steps_per_execution=cfg.steps,
            jit_compile=jit_compile,
        )
    tiled_x, tiled_y = np.tile(x, (cfg.steps, 1)), np.tile(y, (cfg.steps, 1))
    with floatx(cfg.dtype if in_floatx else keras.config.floatx()):
        model.fit(tiled_x, tiled_y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return get_params(model, cfg)


def test_keras_mse_is_the_seeds_sum_at_a_quarter_of_the_rate():
    # loss="mse" with SGD(1.0) on the four XOR rows trains exactly like the seed's sum at 0.25
    cfg = TrainConfig(dtype="float64", steps=100)
    x, y = xor_data("float64")
    params = init_params(cfg)
    with_mse = keras_fit(params, x, y, cfg, loss="mse")
    sum_at_quarter = tf_impl.train(
        params, x, y, TrainConfig(**{**vars(cfg), "learning_rate": 0.25})
    )
    sum_at_one = tf_impl.train(params, x, y, cfg)
    for key in params:
        np.testing.assert_allclose(with_mse[key], sum_at_quarter.params[key], rtol=0, atol=1e-12)
    assert max(np.max(np.abs(with_mse[k] - sum_at_one.params[k])) for k in params) > 0.1


def test_a_python_float_rate_trains_a_float64_tf1_graph_at_float32_precision():
    # GradientDescentOptimizer(0.1) turns 0.1 into a float32 tensor, then casts it to float64
    tf1 = tf.compat.v1

    def one_step(rate, rate_dtype=None):
        with tf.Graph().as_default():
            if rate_dtype is not None:
                rate = tf1.constant(rate, dtype=rate_dtype)
            m = tf1.Variable(np.ones((1, 1)), dtype=tf.float64)
            loss = tf1.reduce_sum(tf1.square(tf1.matmul(np.ones((1, 1)), m)))
            train = tf1.train.GradientDescentOptimizer(rate).minimize(loss)
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                sess.run(train)
                return sess.run(m)[0, 0]

    # dloss/dm = 2, so one step leaves 1 - 2 * rate
    assert one_step(0.1) == 1 - 2 * float(np.float32(0.1))
    assert one_step(0.1) != 1 - 2 * 0.1
    assert one_step(0.1, rate_dtype=tf.float64) == 1 - 2 * 0.1


def test_keras_fit_rounds_float64_data_to_floatx():
    # a float64 model still gets its NumPy data cast to keras.config.floatx() (float32) by fit
    cfg = TrainConfig(dtype="float64", steps=20, learning_rate=0.5)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, (8, 2)), rng.uniform(0, 1, (8, 1))
    params = init_params(cfg)
    reference = tf_impl.train(params, x, y, cfg).params
    rounded = tf_impl.train(params, x.astype("float32"), y.astype("float32"), cfg).params
    naive = keras_fit(params, x, y, cfg, keras_loss(cfg), in_floatx=False)
    careful = keras_fit(params, x, y, cfg, keras_loss(cfg), in_floatx=True)
    for key in params:
        np.testing.assert_array_equal(careful[key], reference[key])
        np.testing.assert_array_equal(naive[key], rounded[key])
    assert any(not np.array_equal(naive[k], reference[k]) for k in params)


def test_xla_rounds_differently_from_the_tf1_graph():
    # Keras resolves jit_compile="auto" to False on this CPU; XLA, asked for, fuses the ops
    cfg = TrainConfig(steps=50)
    x, y = xor_data()
    params = init_params(cfg)
    graph = tf_impl.train(params, x, y, cfg).params
    plain = keras_fit(params, x, y, cfg, keras_loss(cfg), jit_compile=False)
    xla = keras_fit(params, x, y, cfg, keras_loss(cfg), jit_compile=True)
    largest = max(float(np.max(np.abs(xla[k] - graph[k]))) for k in params)
    assert all(np.array_equal(plain[k], graph[k]) for k in params)
    assert 0 < largest < 1e-5  # measured: 2.2e-7


def test_the_seed_program_draw_is_not_keras_random_uniform():
    # keras.initializers.RandomUniform(0.1, 0.9, seed) and TF1's random_uniform with the same
    # seeds draw different numbers; carry weights over by value (set_weights), not by seed
    from backprop_suite.reference import tf1 as tf1_reference

    cfg = TrainConfig()
    tf1 = tf1_reference.draw_weights(cfg, graph_seed=1, op_seeds=[1, 1, 1, 1])
    keras_m1 = keras.initializers.RandomUniform(0.1, 0.9, seed=1)((2, 3)).numpy()
    assert not np.array_equal(keras_m1, tf1["m1"])


def test_checking_the_checks_a_changed_bit_is_seen():
    cfg = TrainConfig(steps=5)
    x, y = xor_data()
    params = init_params(cfg)
    nudged = {**params, "b2": np.nextafter(params["b2"], np.float32(1))}
    a, b = tf_impl.train(params, x, y, cfg), tf_impl.train(nudged, x, y, cfg)
    try:
        assert_identical(a, b)
    except AssertionError:
        return
    raise AssertionError("a one-ulp change in one weight went unnoticed")
