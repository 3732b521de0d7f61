"""Linear regression by gradient descent, as the TF1 tutorials wrote it: two scalar variables,
``reduce_sum(pow(pred - Y, 2)) / (2 * n_samples)``, ``GradientDescentOptimizer(0.01)``."""

import numpy as np
import tensorflow.compat.v1 as tf

learning_rate = 0.01
n_samples = 17


def tf1_program(dtype="float32"):
    rng = np.random.RandomState(1)
    X = tf.placeholder(dtype, [None, 1], name="X")
    Y = tf.placeholder(dtype, [None, 1], name="Y")

    W = tf.Variable(rng.randn(), name="weight", dtype=dtype)
    b = tf.Variable(rng.randn(), name="bias", dtype=dtype)

    pred = tf.add(tf.multiply(X, W), b)
    cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * n_samples)
    optimizer = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)
    return {"feeds": {"x": X, "y": Y}, "loss": cost, "train_op": optimizer, "outputs": pred}


def batches():
    rng = np.random.RandomState(0)
    train_X = np.linspace(1.0, 10.0, n_samples).reshape(-1, 1)
    train_Y = 0.3 * train_X + 0.7 + rng.normal(0.0, 0.3, (n_samples, 1))
    while True:
        yield {"x": train_X, "y": train_Y}
