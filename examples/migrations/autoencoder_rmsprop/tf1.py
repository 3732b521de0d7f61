"""An autoencoder trained with RMSProp, in the style of the TF1 example notebooks: an encoder and a
decoder of sigmoid layers, ``reduce_mean(pow(y_true - y_pred, 2))``,
``RMSPropOptimizer(learning_rate=0.01)``. The data are 4x4 patterns (a row and a column lit) in
noise, flattened to 16."""

import numpy as np
import tensorflow.compat.v1 as tf

num_input, num_hidden_1, num_hidden_2 = 16, 8, 4
batch_size = 32


def tf1_program(dtype="float32"):
    X = tf.placeholder(dtype, [None, num_input])
    weights = {
        "encoder_h1": tf.Variable(tf.random_normal([num_input, num_hidden_1], dtype=dtype)),
        "encoder_h2": tf.Variable(tf.random_normal([num_hidden_1, num_hidden_2], dtype=dtype)),
        "decoder_h1": tf.Variable(tf.random_normal([num_hidden_2, num_hidden_1], dtype=dtype)),
        "decoder_h2": tf.Variable(tf.random_normal([num_hidden_1, num_input], dtype=dtype)),
    }
    biases = {
        "encoder_b1": tf.Variable(tf.random_normal([num_hidden_1], dtype=dtype)),
        "encoder_b2": tf.Variable(tf.random_normal([num_hidden_2], dtype=dtype)),
        "decoder_b1": tf.Variable(tf.random_normal([num_hidden_1], dtype=dtype)),
        "decoder_b2": tf.Variable(tf.random_normal([num_input], dtype=dtype)),
    }

    def encoder(x):
        layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights["encoder_h1"]), biases["encoder_b1"]))
        layer_2 = tf.add(tf.matmul(layer_1, weights["encoder_h2"]), biases["encoder_b2"])
        return tf.nn.sigmoid(layer_2)

    def decoder(x):
        layer_1 = tf.nn.sigmoid(tf.add(tf.matmul(x, weights["decoder_h1"]), biases["decoder_b1"]))
        layer_2 = tf.add(tf.matmul(layer_1, weights["decoder_h2"]), biases["decoder_b2"])
        return tf.nn.sigmoid(layer_2)

    y_pred = decoder(encoder(X))
    y_true = X
    loss = tf.reduce_mean(tf.pow(y_true - y_pred, 2))
    optimizer = tf.train.RMSPropOptimizer(0.01).minimize(loss)
    return {"feeds": {"x": X}, "loss": loss, "train_op": optimizer, "outputs": y_pred}


def batches():
    rng = np.random.RandomState(0)
    while True:
        images = rng.uniform(0.0, 0.2, (batch_size, 4, 4))
        rows, columns = rng.randint(4, size=batch_size), rng.randint(4, size=batch_size)
        images[np.arange(batch_size), rows, :] = 1.0
        images[np.arange(batch_size), :, columns] = 1.0
        yield {"x": images.reshape(batch_size, num_input)}
