"""Two towers, in the style of TF1's multi-GPU CIFAR-10 trainer (``cifar10_multi_gpu_train.py``):
the seed's 2-3-1 sigmoid net, each batch split in two, one copy of the net per device sharing one
set of variables, each tower's loss the mean over its half, the towers' gradients averaged by
hand (``average_gradients``) and applied once. Two CPU devices stand in for the GPUs
(``device_count={"CPU": 2}``)."""

import numpy as np
import tensorflow.compat.v1 as tf

num_towers = 2
batch_size = 8


def inference(x, dtype):
    init = tf.random_uniform_initializer(0.1, 0.9)
    m1 = tf.get_variable("m1", [2, 3], dtype, initializer=init)
    b1 = tf.get_variable("b1", [3], dtype, initializer=init)
    m2 = tf.get_variable("m2", [3, 1], dtype, initializer=init)
    b2 = tf.get_variable("b2", [1], dtype, initializer=init)
    h1 = tf.sigmoid(tf.matmul(x, m1) + b1)
    return tf.sigmoid(tf.matmul(h1, m2) + b2)


def tower_loss(x, y, dtype):
    y_out = inference(x, dtype)
    return tf.reduce_mean(tf.square(y - y_out)), y_out


def average_gradients(tower_grads):
    average_grads = []
    for grad_and_vars in zip(*tower_grads):
        grads = [tf.expand_dims(g, 0) for g, _ in grad_and_vars]
        grad = tf.reduce_mean(tf.concat(grads, 0), 0)
        average_grads.append((grad, grad_and_vars[0][1]))
    return average_grads


def tf1_program(dtype="float32"):
    x0 = tf.placeholder(dtype, [batch_size, 2])
    y0 = tf.placeholder(dtype, [batch_size, 1])
    opt = tf.train.GradientDescentOptimizer(0.5)
    x_parts, y_parts = tf.split(x0, num_towers), tf.split(y0, num_towers)
    tower_grads, losses, outputs = [], [], []
    with tf.variable_scope(tf.get_variable_scope()):
        for i in range(num_towers):
            with tf.device(f"/cpu:{i}"), tf.name_scope(f"tower_{i}"):
                loss, y_out = tower_loss(x_parts[i], y_parts[i], dtype)
                tf.get_variable_scope().reuse_variables()
                tower_grads.append(opt.compute_gradients(loss))
                losses.append(loss)
                outputs.append(y_out)
    train_op = opt.apply_gradients(average_gradients(tower_grads))
    return {
        "feeds": {"x": x0, "y": y0},
        "loss": tf.reduce_mean(losses),
        "train_op": train_op,
        "outputs": tf.concat(outputs, 0),
        "session_config": tf.ConfigProto(device_count={"CPU": num_towers}),
    }


def batches():
    rng = np.random.RandomState(0)
    corners = np.array([[0, 0], [1, 1], [1, 0], [0, 1]])
    while True:
        picked = rng.randint(0, 4, batch_size)
        x = corners[picked] + rng.normal(0.0, 0.1, (batch_size, 2))
        yield {"x": x, "y": (picked >= 2).astype(float).reshape(-1, 1)}
