"""The child process of ``keras_impl.backends``: Keras on the backend ``KERAS_BACKEND`` names.

    KERAS_BACKEND=jax python -m backprop_suite.children.keras_backend IN.npz OUT.npz

``IN.npz`` holds one or more cases (a config, weights, x and, to train, y); ``OUT.npz`` gets, per
case, the gradients at the weights and the run, or only the forward pass when there is no y.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time

import keras
import numpy as np

import keras_impl
from backprop_suite.core import TrainConfig


def versions() -> dict[str, str]:
    found = {"backend": keras.backend.backend(), "keras": keras.__version__}
    for package in {"jax": ["jax", "jaxlib"], "torch": ["torch"]}.get(found["backend"], []):
        found[package] = importlib.metadata.version(package)
    return found


def run_case(stored, case: int, arrays: dict) -> dict:
    cfg = TrainConfig(**json.loads(str(stored[f"{case}/config"])))
    if f"{case}/jit" in stored:  # XLA on JAX or not, for this case (keras_impl.trainer.jit_compile)
        os.environ["KERAS_JAX_JIT"] = str(stored[f"{case}/jit"])
    params = {k: stored[f"{case}/param/{k}"] for k in cfg.param_shapes()}
    x = stored[f"{case}/x"]
    if f"{case}/y" not in stored:
        arrays[f"{case}/forward"] = keras_impl.forward(params, x, cfg)
        return {}
    y = stored[f"{case}/y"]
    loss, grads = keras_impl.loss_and_grads(params, x, y, cfg)
    start = time.perf_counter()
    result = keras_impl.train(params, x, y, cfg)
    seconds = time.perf_counter() - start
    arrays.update({f"{case}/grad/{k}": v for k, v in grads.items()})
    arrays.update({f"{case}/param/{k}": v for k, v in result.params.items()})
    arrays[f"{case}/losses"], arrays[f"{case}/outputs"] = result.losses, result.outputs
    return {"loss": loss, "seconds": seconds}


def main(inputs: str, outputs: str) -> int:
    arrays: dict[str, np.ndarray] = {}
    with np.load(inputs) as stored:
        cases = [run_case(stored, case, arrays) for case in range(int(stored["cases"]))]
    meta = {"cases": cases, "versions": versions()}
    np.savez(outputs, meta=np.array(json.dumps(meta)), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
