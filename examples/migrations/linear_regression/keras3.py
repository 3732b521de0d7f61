"""Linear regression in Keras 3: one Dense unit; TF1's sum / (2n) is half the mean square."""

import keras
import numpy as np
from keras import ops

# TF1's two scalars become Dense's (1, 1) kernel and (1,) bias.
WEIGHT_MAP = {
    "weight": ("regression/linear/kernel", lambda w: np.reshape(w, (1, 1))),
    "bias": ("regression/linear/bias", lambda b: np.reshape(b, (1,))),
}


def half_squared_error(y_true, y_pred):
    return 0.5 * ops.square(y_pred - y_true)  # averaged over the batch by Keras: sum / (2n)


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, name="linear")], name="regression"
    )
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=half_squared_error)
    return {"model": model}
