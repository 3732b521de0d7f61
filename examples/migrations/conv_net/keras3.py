"""The conv net in Keras 3. ``tf.nn.conv2d``'s filters are laid out (height, width, in, out),
as Keras's ``Conv2D`` kernels are, and ``Flatten`` reads NHWC in the order of TF1's ``reshape``,
so the weights carry over in creation order unchanged. TF1 fed ``keep_prob=0.75``, the fraction
kept; Keras's ``Dropout`` takes the fraction dropped."""

import keras

from keras_impl.optimizers import TF1Adam


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(rate=1 - 0.75),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        optimizer=TF1Adam(1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    return {"model": model}
