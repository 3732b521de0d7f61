"""Keras 3 on JAX: ``keras_impl`` run in a child process with ``KERAS_BACKEND=jax``
(``keras_impl.backends``), with the same three functions as every implementation."""

from keras_impl.backends import functions_for

loss_and_grads, train, forward = functions_for("jax")
