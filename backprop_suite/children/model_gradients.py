"""The child process of ``backprop_suite.gradcheck.backends``: a saved Keras 3 model's loss
gradients on the backend ``KERAS_BACKEND`` names, by that backend's own autodiff.

    KERAS_BACKEND=jax python -m backprop_suite.children.model_gradients MODEL.keras DATA.npz \\
        LOSS.json OUT.npz
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np

from backprop_suite.gradcheck.reference import loss_in
from keras_impl.gradients import loss_and_gradients


def main(model_path: str, data_path: str, loss_path: str, out: str) -> int:
    model = keras.saving.load_model(model_path, compile=False)
    # compile's loss container computes in floatx whatever the model's dtype
    keras.config.set_floatx(str(model.trainable_variables[0].dtype))
    saved = json.loads(Path(loss_path).read_text())
    loss = keras.losses.deserialize(saved["loss"])
    if saved["dtype"] is not None:  # Keras's serialization of a loss leaves its dtype out
        loss = loss_in(loss, saved["dtype"])
    model.compile(loss=loss)
    with np.load(data_path) as data:
        x, y = data["x"], data["y"]
    loss, grads = loss_and_gradients(model, x, y)
    arrays = {f"grad/{i}": np.asarray(g) for i, g in enumerate(grads)}
    np.savez(out, loss=np.asarray(loss), backend=np.array(keras.backend.backend()), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
