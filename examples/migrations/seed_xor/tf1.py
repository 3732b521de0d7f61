"""The seed article's program: a 2-3-1 sigmoid net on XOR, gradient descent at rate 1.0 on the
summed squares (tests/fixtures/tf1_snippet.py, brought to Python 3 and tensorflow.compat.v1, the
data fed through placeholders)."""

import numpy as np
import tensorflow.compat.v1 as tf


def tf1_program(dtype="float32"):
    x0 = tf.placeholder(dtype, [None, 2], name="x0")
    y0 = tf.placeholder(dtype, [None, 1], name="y0")

    m1 = tf.Variable(tf.random_uniform([2, 3], minval=0.1, maxval=0.9, dtype=dtype), name="m1")
    b1 = tf.Variable(tf.random_uniform([3], minval=0.1, maxval=0.9, dtype=dtype), name="b1")
    h1 = tf.sigmoid(tf.matmul(x0, m1) + b1)

    m2 = tf.Variable(tf.random_uniform([3, 1], minval=0.1, maxval=0.9, dtype=dtype), name="m2")
    b2 = tf.Variable(tf.random_uniform([1], minval=0.1, maxval=0.9, dtype=dtype), name="b2")
    y_out = tf.sigmoid(tf.matmul(h1, m2) + b2)

    loss = tf.reduce_sum(tf.square(y0 - y_out))
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    return {"feeds": {"x": x0, "y": y0}, "loss": loss, "train_op": train, "outputs": y_out}


def batches():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([[0.0], [0.0], [1.0], [1.0]])
    while True:
        yield {"x": x, "y": y}


if __name__ == "__main__":
    with tf.Graph().as_default(), tf.Session() as sess:
        program = tf1_program()
        sess.run(tf.global_variables_initializer())
        feed = {program["feeds"][k]: v for k, v in next(batches()).items()}
        for _ in range(500):
            sess.run(program["train_op"], feed)
        print(sess.run([program["outputs"], program["loss"]], feed))
