"""The seed program in Keras 3: two sigmoid Dense layers, SGD(1.0), the squares summed."""

import keras


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [
            keras.Input((2,), dtype=dtype),
            keras.layers.Dense(3, activation="sigmoid", dtype=dtype),
            keras.layers.Dense(1, activation="sigmoid", dtype=dtype),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(1.0),
        loss=keras.losses.MeanSquaredError(reduction="sum"),
    )
    return {"model": model}
