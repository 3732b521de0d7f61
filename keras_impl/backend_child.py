"""The child process of ``keras_impl.backends``: Keras on the backend ``KERAS_BACKEND`` names.

KERAS_BACKEND=jax python -m keras_impl.backend_child IN.npz OUT.npz
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time

import keras
import numpy as np

import keras_impl
from common import TrainConfig


def versions() -> dict[str, str]:
    found = {"backend": keras.backend.backend(), "keras": keras.__version__}
    for package in {"jax": ["jax", "jaxlib"], "torch": ["torch"]}.get(found["backend"], []):
        found[package] = importlib.metadata.version(package)
    return found


def main(inputs: str, outputs: str) -> int:
    with np.load(inputs) as stored:
        cfg = TrainConfig(**json.loads(str(stored["config"])))
        x, y = stored["x"], stored["y"] if "y" in stored else None
        params = {k: stored[k] for k in cfg.param_shapes()}
    if y is None:
        np.savez(outputs, forward=keras_impl.forward(params, x, cfg))
        return 0
    loss, grads = keras_impl.loss_and_grads(params, x, y, cfg)
    start = time.perf_counter()
    result = keras_impl.train(params, x, y, cfg)
    seconds = time.perf_counter() - start
    meta = {"loss": loss, "seconds": seconds, "versions": versions()}
    arrays = {f"grad/{k}": v for k, v in grads.items()}
    arrays.update({f"param/{k}": v for k, v in result.params.items()})
    np.savez(
        outputs,
        meta=np.array(json.dumps(meta)),
        losses=result.losses,
        outputs=result.outputs,
        **arrays,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
