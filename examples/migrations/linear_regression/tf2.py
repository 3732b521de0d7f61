"""Linear regression in plain TF2: the same two scalars, the same cost, a GradientTape step."""

import tensorflow as tf

n_samples = 17


def tf2_program(dtype="float32"):
    W = tf.Variable(0.0, name="weight", dtype=dtype)
    b = tf.Variable(0.0, name="bias", dtype=dtype)
    rate = tf.constant(0.01, dtype)

    def outputs(batch):
        return batch["x"] * W + b

    def loss(batch):
        return tf.reduce_sum(tf.pow(outputs(batch) - batch["y"], 2)) / (2 * n_samples)

    @tf.function
    def train_step(batch):
        with tf.GradientTape() as tape:
            cost = loss(batch)
        for variable, grad in zip((W, b), tape.gradient(cost, (W, b))):
            variable.assign_sub(rate * grad)
        return cost

    return {"variables": [W, b], "loss": loss, "train_step": train_step, "outputs": outputs}
