"""A small conv net in the style of "Deep MNIST for Experts": ``weight_variable`` and
``bias_variable`` helpers, two ``conv2d`` + ``max_pool`` blocks, a dense layer with dropout fed
``keep_prob``, Adam. The images are 8x8 bars, horizontal or vertical, in noise."""

import numpy as np
import tensorflow.compat.v1 as tf

batch_size = 16


def weight_variable(shape, dtype):
    return tf.Variable(tf.truncated_normal(shape, stddev=0.2, dtype=dtype))


def bias_variable(shape, dtype):
    return tf.Variable(tf.constant(0.1, shape=shape, dtype=dtype))


def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def tf1_program(dtype="float32"):
    x = tf.placeholder(dtype, [None, 8, 8, 1])
    y_ = tf.placeholder(dtype, [None, 2])
    keep_prob = tf.placeholder(dtype)

    W_conv1 = weight_variable([3, 3, 1, 4], dtype)
    b_conv1 = bias_variable([4], dtype)
    h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, W_conv1) + b_conv1))

    W_conv2 = weight_variable([3, 3, 4, 8], dtype)
    b_conv2 = bias_variable([8], dtype)
    h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2))

    W_fc1 = weight_variable([2 * 2 * 8, 16], dtype)
    b_fc1 = bias_variable([16], dtype)
    h_pool2_flat = tf.reshape(h_pool2, [-1, 2 * 2 * 8])
    h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)
    h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)

    W_fc2 = weight_variable([16, 2], dtype)
    b_fc2 = bias_variable([2], dtype)
    y_conv = tf.matmul(h_fc1_drop, W_fc2) + b_fc2

    cross_entropy = tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y_conv)
    )
    train_step = tf.train.AdamOptimizer(1e-3).minimize(cross_entropy)
    feeds = {"x": x, "y": y_, "keep_prob": keep_prob}
    return {"feeds": feeds, "loss": cross_entropy, "train_op": train_step, "outputs": y_conv}


def batches():
    rng = np.random.RandomState(0)
    while True:
        labels = rng.randint(2, size=batch_size)
        images = rng.normal(0.0, 0.3, (batch_size, 8, 8, 1))
        for image, label, line in zip(images, labels, rng.randint(8, size=batch_size)):
            if label:
                image[line, :, 0] += 1.0
            else:
                image[:, line, 0] += 1.0
        yield {"x": images, "y": np.eye(2)[labels], "keep_prob": 0.75}
