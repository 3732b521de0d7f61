"""The towers in Keras 3: a MirroredStrategy over two logical CPUs makes the copies, splits each
batch and sums the replicas' gradients. Keras scales its ``"mse"`` (a mean over each replica's
rows) by 1/2 before that sum, so for equal halves the update is the towers' averaged mean, as in
TF1; the tower code, the shared variable scope and ``average_gradients`` all go."""

import keras
import tensorflow as tf

from backprop_suite.distribute.devices import split_cpu

split_cpu(2)  # before TensorFlow starts: the two devices the towers stood on

WEIGHT_MAP = {
    "m1": "towers/hidden/kernel",
    "b1": "towers/hidden/bias",
    "m2": "towers/out/kernel",
    "b2": "towers/out/bias",
}


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(3, activation="sigmoid", name="hidden"),
                keras.layers.Dense(1, activation="sigmoid", name="out"),
            ],
            name="towers",
        )
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    return {"model": model}
