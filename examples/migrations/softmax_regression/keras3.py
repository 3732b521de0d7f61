"""Softmax regression in Keras 3: one Dense layer with no activation; the loss reads logits."""

import keras


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    return {"model": model}
