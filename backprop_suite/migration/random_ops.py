"""Dropout that cannot make a correct port look wrong.

An old program and its port draw their dropout masks from different random streams (TF1's stateful
``random_uniform``, Keras's stateless seeds), so no choice of seeds makes them agree. Both reach
TensorFlow's one private helper, ``nn_ops._dropout``: ``tf.compat.v1.nn.dropout(keep_prob=)``,
``tf.nn.dropout``, ``tf.compat.v1.layers.dropout`` under ``tf_keras``, and Keras 3's ``Dropout`` on
the TensorFlow backend. While a mode is active that helper is replaced:

- ``"aligned"``: every mask is ``stateless_uniform(shape, seed=ALIGNED_SEED) >= rate``, a function
  of the tensor's shape alone, so the two programs drop the same units, at every step. The kept
  units are scaled as TF1 scales them, ``x / (1 - rate)``, on both sides. A port that passes
  ``keep_prob`` where Keras wants ``rate`` drops other units and fails the forward pass.
- ``"off"``: dropout is the identity in both programs.
- ``"as-is"``: nothing is replaced (a correct port with dropout then fails at the forward pass).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf
from tensorflow.python.ops import nn_ops

from backprop_suite.migration.options import RANDOM_MODES

ALIGNED_SEED = (20261129, 0)


def _aligned_dropout(x, rate, noise_shape, uniform_sampler, dummy_rng_step, name, default_name):
    with tf.name_scope(name or default_name):
        x = tf.convert_to_tensor(x)
        rate = tf.cast(rate, x.dtype)
        shape = tf.shape(x) if noise_shape is None else noise_shape
        draws = tf.random.stateless_uniform(shape, seed=ALIGNED_SEED, dtype=x.dtype)
        dropped = tf.where(draws >= rate, x / (1 - rate), tf.zeros_like(x))
        if not tf.executing_eagerly():  # a keep_prob of no declared shape must not lose x's
            dropped.set_shape(x.shape)
        return dropped


def _no_dropout(x, rate, noise_shape, uniform_sampler, dummy_rng_step, name, default_name):
    return tf.convert_to_tensor(x)


@contextlib.contextmanager
def random_mode(mode: str) -> Iterator[None]:
    """Build and run a program inside this to give its dropout the chosen behaviour."""
    if mode not in RANDOM_MODES:
        raise ValueError(f"random mode must be one of {', '.join(RANDOM_MODES)}, got {mode!r}")
    if mode == "as-is":
        yield
        return
    original = nn_ops._dropout
    nn_ops._dropout = _aligned_dropout if mode == "aligned" else _no_dropout
    try:
        yield
    finally:
        nn_ops._dropout = original
