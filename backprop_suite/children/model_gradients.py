"""The child process of ``backprop_suite.gradcheck.backends``: a saved Keras 3 model's loss
gradients on the backend ``KERAS_BACKEND`` names, by that backend's own autodiff, with the
model called in training mode or not as ``SETUP.json`` says.

    KERAS_BACKEND=jax python -m backprop_suite.children.model_gradients MODEL.keras DATA.npz \\
        SETUP.json OUT.npz

``SETUP.json``: ``training``, and what to import before loading (``gradcheck.child_imports``);
``draws.npz`` beside ``DATA.npz``: the random numbers the model drew in the parent, which it
draws again here (``gradcheck.draws.replayed``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np

from backprop_suite.gradcheck.child_imports import imported
from backprop_suite.gradcheck.draws import replayed, stored
from keras_impl.gradients import loss_and_gradients


def main(model_path: str, data_path: str, setup_path: str, out: str) -> int:
    setup = json.loads(Path(setup_path).read_text())
    custom_objects, loss = imported(setup["imports"])
    model = keras.saving.load_model(model_path, custom_objects=custom_objects, compile=False)
    # compile's loss container computes in floatx whatever the model's dtype
    keras.config.set_floatx(str(model.trainable_variables[0].dtype))
    model.compile(loss=loss)
    with np.load(data_path) as data:
        x, y = data["x"], data["y"]
    with replayed(stored(Path(data_path).with_name("draws.npz"))):
        loss, grads = loss_and_gradients(model, x, y, training=setup["training"])
    arrays = {f"grad/{i}": np.asarray(g) for i, g in enumerate(grads)}
    np.savez(out, loss=np.asarray(loss), backend=np.array(keras.backend.backend()), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
