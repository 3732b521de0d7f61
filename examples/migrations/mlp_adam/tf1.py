"""A multilayer perceptron trained with Adam, in the style of the TF1 example notebooks: weights
and biases in dicts of ``tf.Variable(tf.random_normal(...))``, ReLU hidden layers, the mean of
``softmax_cross_entropy_with_logits``, ``AdamOptimizer(learning_rate=0.01)``."""

import numpy as np
import tensorflow.compat.v1 as tf

n_input, n_hidden_1, n_hidden_2, n_classes = 8, 16, 16, 3
batch_size = 32


def tf1_program(dtype="float32"):
    X = tf.placeholder(dtype, [None, n_input])
    Y = tf.placeholder(dtype, [None, n_classes])
    weights = {
        "h1": tf.Variable(tf.random_normal([n_input, n_hidden_1], stddev=0.3, dtype=dtype)),
        "h2": tf.Variable(tf.random_normal([n_hidden_1, n_hidden_2], stddev=0.3, dtype=dtype)),
        "out": tf.Variable(tf.random_normal([n_hidden_2, n_classes], stddev=0.3, dtype=dtype)),
    }
    biases = {
        "b1": tf.Variable(tf.random_normal([n_hidden_1], stddev=0.1, dtype=dtype)),
        "b2": tf.Variable(tf.random_normal([n_hidden_2], stddev=0.1, dtype=dtype)),
        "out": tf.Variable(tf.random_normal([n_classes], stddev=0.1, dtype=dtype)),
    }

    def multilayer_perceptron(x):
        layer_1 = tf.nn.relu(tf.add(tf.matmul(x, weights["h1"]), biases["b1"]))
        layer_2 = tf.nn.relu(tf.add(tf.matmul(layer_1, weights["h2"]), biases["b2"]))
        return tf.matmul(layer_2, weights["out"]) + biases["out"]

    logits = multilayer_perceptron(X)
    loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=Y))
    optimizer = tf.train.AdamOptimizer(learning_rate=0.01)
    train_op = optimizer.minimize(loss_op)
    return {"feeds": {"x": X, "y": Y}, "loss": loss_op, "train_op": train_op, "outputs": logits}


def batches():
    rng = np.random.RandomState(0)
    mixing = rng.normal(0.0, 1.0, (n_input, n_classes))
    while True:
        x = rng.normal(0.0, 1.0, (batch_size, n_input))
        labels = np.argmax(np.tanh(x) @ mixing, axis=1)
        yield {"x": x, "y": np.eye(n_classes)[labels]}
