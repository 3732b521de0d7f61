"""An LSTM classifier in the style of the TF1 RNN examples: the sequence unstacked into time
steps, ``BasicLSTMCell(n_hidden, forget_bias=1.0)`` run by ``static_rnn``, the last output through
a dense layer, the mean of ``softmax_cross_entropy_with_logits``, gradient descent. The cell's
weights take the variable scope's uniform initializer, as the PTB tutorial set it. A sequence's
class is whether its first feature sums above zero.

``tf.compat.v1.nn.rnn_cell`` needs legacy Keras on TensorFlow 2.16 and later: the check runs this
program with ``tf_keras`` installed and ``TF_USE_LEGACY_KERAS=1``, in a process of its own."""

import numpy as np
import tensorflow.compat.v1 as tf

timesteps, num_input, num_hidden, num_classes = 5, 3, 8, 2
batch_size = 16


def tf1_program(dtype="float32"):
    X = tf.placeholder(dtype, [None, timesteps, num_input])
    Y = tf.placeholder(dtype, [None, num_classes])
    initializer = tf.random_uniform_initializer(-0.5, 0.5, seed=1, dtype=dtype)
    with tf.variable_scope("rnn", initializer=initializer):
        x = tf.unstack(X, timesteps, 1)
        lstm_cell = tf.nn.rnn_cell.BasicLSTMCell(num_hidden, forget_bias=1.0)
        outputs, states = tf.nn.static_rnn(lstm_cell, x, dtype=dtype)
    out_w = tf.Variable(tf.random_normal([num_hidden, num_classes], stddev=0.5, dtype=dtype))
    out_b = tf.Variable(tf.random_normal([num_classes], stddev=0.5, dtype=dtype))
    logits = tf.matmul(outputs[-1], out_w) + out_b

    loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=Y))
    train_op = tf.train.GradientDescentOptimizer(learning_rate=0.5).minimize(loss_op)
    return {"feeds": {"x": X, "y": Y}, "loss": loss_op, "train_op": train_op, "outputs": logits}


def batches():
    rng = np.random.RandomState(0)
    while True:
        x = rng.normal(0.0, 1.0, (batch_size, timesteps, num_input))
        labels = (x[:, :, 0].sum(axis=1) > 0).astype(int)
        yield {"x": x, "y": np.eye(num_classes)[labels]}
