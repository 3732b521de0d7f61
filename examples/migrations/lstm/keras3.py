"""The LSTM classifier in Keras 3.

``BasicLSTMCell`` keeps one kernel for ``concat([x, h])``, (3 + 8, 4 * 8), and computes its gates
in the order i, j, f, o (j is the new input), adding ``forget_bias`` to f at every step. Keras's
``LSTM`` keeps ``kernel`` (3, 32) for x and ``recurrent_kernel`` (8, 32) for h, its gates in the
order i, f, c, o (c is TF1's j), and the forget bias inside ``bias``. So the kernel is split by
rows, every gate block is reordered, and 1.0 is added to the forget block of the bias.
"""

import keras
import numpy as np

num_input, num_hidden = 3, 8
TF1_TO_KERAS_GATES = (0, 2, 1, 3)  # Keras's i, f, c, o taken from TF1's i, j, f, o


def gates_reordered(value, order=TF1_TO_KERAS_GATES):
    blocks = np.split(value, 4, axis=-1)
    return np.concatenate([blocks[i] for i in order], axis=-1)


def with_forget_bias(bias, order=TF1_TO_KERAS_GATES):
    bias = gates_reordered(bias, order)
    bias[num_hidden : 2 * num_hidden] += 1.0
    return bias


WEIGHT_MAP = {
    "rnn/rnn/basic_lstm_cell/kernel": {
        "classifier/lstm/lstm_cell/kernel": lambda k: gates_reordered(k[:num_input]),
        "classifier/lstm/lstm_cell/recurrent_kernel": lambda k: gates_reordered(k[num_input:]),
    },
    "rnn/rnn/basic_lstm_cell/bias": ("classifier/lstm/lstm_cell/bias", with_forget_bias),
    "Variable": "classifier/out/kernel",
    "Variable_1": "classifier/out/bias",
}


def tf2_program(dtype="float32"):
    keras.config.set_floatx(dtype)  # the compiled loss and the data follow floatx
    keras.config.set_dtype_policy(dtype)  # the layers' dtype, which Keras fixes at first use
    model = keras.Sequential(
        [
            keras.Input((5, num_input)),
            keras.layers.LSTM(num_hidden, name="lstm"),
            keras.layers.Dense(2, name="out"),
        ],
        name="classifier",
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    return {"model": model}
