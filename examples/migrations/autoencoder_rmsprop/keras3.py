"""The autoencoder in Keras 3. Its target is its input, so the batch's one entry is both x and y.
Keras's ``RMSprop`` is not TF1's ``RMSPropOptimizer``: both add epsilon inside the square root,
but TF1 starts the mean square at 1.0 (Keras at 0) and defaults epsilon to 1e-10 (Keras 1e-7).
The port trains with ``keras_impl.optimizers.TF1RMSProp``."""

import keras
from keras import ops

from keras_impl.optimizers import TF1RMSProp

# TF1 made the four weight matrices first, then the four biases.
WEIGHT_MAP = {
    "Variable": "autoencoder/encoder_1/kernel",
    "Variable_1": "autoencoder/encoder_2/kernel",
    "Variable_2": "autoencoder/decoder_1/kernel",
    "Variable_3": "autoencoder/decoder_2/kernel",
    "Variable_4": "autoencoder/encoder_1/bias",
    "Variable_5": "autoencoder/encoder_2/bias",
    "Variable_6": "autoencoder/decoder_1/bias",
    "Variable_7": "autoencoder/decoder_2/bias",
}


def mean_of_every_square(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred))  # one number: TF1's reduce_mean over all


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [
            keras.Input((16,)),
            keras.layers.Dense(8, activation="sigmoid", name="encoder_1"),
            keras.layers.Dense(4, activation="sigmoid", name="encoder_2"),
            keras.layers.Dense(8, activation="sigmoid", name="decoder_1"),
            keras.layers.Dense(16, activation="sigmoid", name="decoder_2"),
        ],
        name="autoencoder",
    )
    model.compile(
        optimizer=TF1RMSProp(0.01, decay=0.9, momentum=0.0, epsilon=1e-10, centered=False),
        loss=mean_of_every_square,
    )
    return {"model": model, "inputs": "x", "targets": "x"}
