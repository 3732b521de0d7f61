"""The towers in plain TF2: a custom loop on a MirroredStrategy over two logical CPUs.

``strategy.run`` runs one step per replica on its half of the batch; each replica's loss is its
share of the global mean, ``tf.nn.compute_average_loss(..., global_batch_size=8)``; the replicas'
gradients are summed by ``all_reduce`` and every replica applies the same update to its copy.
The sum of the shares' gradients is what TF1's ``average_gradients`` made of the towers' means."""

import tensorflow as tf

from backprop_suite.distribute.devices import split_cpu

split_cpu(2)  # before TensorFlow starts: the two devices the towers stood on

batch_size = 8


def global_share(per_example):
    return tf.nn.compute_average_loss(per_example, global_batch_size=batch_size)


def build(dtype, share_of_loss):
    """The port, with ``share_of_loss`` turning a replica's per-example losses into its loss."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        m1 = tf.Variable(tf.zeros([2, 3], dtype), name="m1")
        b1 = tf.Variable(tf.zeros([3], dtype), name="b1")
        m2 = tf.Variable(tf.zeros([3, 1], dtype), name="m2")
        b2 = tf.Variable(tf.zeros([1], dtype), name="b2")
    variables = [m1, b1, m2, b2]
    rate = tf.constant(0.5, dtype)

    def outputs(batch):
        h1 = tf.sigmoid(tf.matmul(batch["x"], m1) + b1)
        return tf.sigmoid(tf.matmul(h1, m2) + b2)

    def per_example(batch):
        return tf.reduce_mean(tf.square(batch["y"] - outputs(batch)), axis=1)

    def loss(batch):
        return tf.reduce_mean(per_example(batch))

    def replica_step(half):
        with tf.GradientTape() as tape:
            share = share_of_loss(per_example(half))
        grads = tape.gradient(share, variables)
        grads = tf.distribute.get_replica_context().all_reduce("sum", grads)
        for variable, grad in zip(variables, grads):
            variable.assign_sub(rate * grad)
        return share

    @tf.function
    def train_step(batch):
        halves = strategy.experimental_distribute_values_from_function(
            lambda context: {
                name: tf.split(value, 2)[context.replica_id_in_sync_group]
                for name, value in batch.items()
            }
        )
        shares = strategy.run(replica_step, args=(halves,))
        return strategy.reduce("sum", shares, axis=None)

    return {"variables": variables, "loss": loss, "train_step": train_step, "outputs": outputs}


def tf2_program(dtype="float32"):
    return build(dtype, global_share)
