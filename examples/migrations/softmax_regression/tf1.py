"""Softmax regression, as "MNIST For ML Beginners" wrote it (here on three Gaussian classes in four
dimensions): zero-initialised W and b, ``softmax_cross_entropy_with_logits``, gradient descent."""

import numpy as np
import tensorflow.compat.v1 as tf

n_features, n_classes, batch_size = 4, 3, 30


def tf1_program(dtype="float32"):
    x = tf.placeholder(dtype, [None, n_features])
    W = tf.Variable(tf.zeros([n_features, n_classes], dtype=dtype), name="W")
    b = tf.Variable(tf.zeros([n_classes], dtype=dtype), name="b")
    y = tf.matmul(x, W) + b

    y_ = tf.placeholder(dtype, [None, n_classes])
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
    return {"feeds": {"x": x, "y": y_}, "loss": cross_entropy, "train_op": train_step, "outputs": y}


def batches():
    rng = np.random.RandomState(0)
    centres = rng.normal(0.0, 2.0, (n_classes, n_features))
    while True:
        labels = rng.randint(n_classes, size=batch_size)
        yield {
            "x": centres[labels] + rng.normal(0.0, 1.0, (batch_size, n_features)),
            "y": np.eye(n_classes)[labels],
        }
