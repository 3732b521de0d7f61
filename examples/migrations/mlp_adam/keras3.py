"""The MLP in Keras 3. Keras's own Adam has TF1's formula but is not TF1's AdamOptimizer to the
last bit: its epsilon defaults to 1e-7 (TF1: 1e-8), it casts 1 - beta2 from a Python float where
TF1 subtracts in float32, and it raises beta to the power t where TF1 keeps a running product. So
the port trains with TF1's rule written as a Keras optimizer, ``keras_impl.optimizers.TF1Adam``."""

import keras

from keras_impl.optimizers import TF1Adam

# TF1 made the three weight matrices first, then the three biases, all named Variable_N.
WEIGHT_MAP = {
    "Variable": "mlp/hidden_1/kernel",
    "Variable_1": "mlp/hidden_2/kernel",
    "Variable_2": "mlp/out/kernel",
    "Variable_3": "mlp/hidden_1/bias",
    "Variable_4": "mlp/hidden_2/bias",
    "Variable_5": "mlp/out/bias",
}


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="hidden_1"),
            keras.layers.Dense(16, activation="relu", name="hidden_2"),
            keras.layers.Dense(3, name="out"),
        ],
        name="mlp",
    )
    model.compile(
        optimizer=TF1Adam(0.01, beta1=0.9, beta2=0.999, epsilon=1e-8),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    return {"model": model}
