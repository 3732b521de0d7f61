"""Keras 3 on JAX or PyTorch, run in a child process.

Keras fixes its backend when it is imported, so a run on another backend happens in a process of
its own (``python -m keras_impl.backend_child``) with ``KERAS_BACKEND`` set, and, for float64 on
JAX, ``JAX_ENABLE_X64=1``: without it JAX computes in float32 even where the layers say float64
(``tests/test_keras_backends.py`` shows it). The child trains with ``keras_impl`` itself and sends
back the gradients at the initial weights and the run, in the weight format. One child run
answers ``loss_and_grads``, ``train`` and ``forward`` for the same inputs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from common import TrainConfig, TrainResult, check_inputs, check_params, check_x

INSTALL = {
    "jax": 'jax is in the dev extra: python -m pip install -e ".[dev]" (or pip install jax)',
    "torch": 'install the CPU build: python -m pip install "torch==2.13.0+cpu" '
    "(the plain torch wheel is a CUDA build; the [torch] extra pins the version)",
}

_last: dict[str, tuple[str, dict]] = {}


def require(backend: str) -> None:
    """A missing backend is a ``ValueError`` that says what to install."""
    if backend not in INSTALL:
        raise ValueError(f"unknown Keras backend {backend!r}; expected one of {', '.join(INSTALL)}")
    if importlib.util.find_spec(backend) is None:
        raise ValueError(
            f"keras-{backend} needs {backend}, which is not installed; {INSTALL[backend]}"
        )


def child_environment(backend: str, dtype: str, x64: bool | None = None) -> dict[str, str]:
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend == "jax" and (dtype == "float64" if x64 is None else x64):
        env["JAX_ENABLE_X64"] = "1"
    return env


def _key(backend: str, params: Mapping, x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> str:
    digest = hashlib.sha256(json.dumps([backend, cfg.to_json()]).encode())
    for value in [*params.values(), x, y]:
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def forward(backend: str, params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """y_out for inputs ``x``, by the model on ``backend`` (a child run that does not train)."""
    require(backend)
    params, x0 = check_params(params, cfg), check_x(x, cfg)
    with tempfile.TemporaryDirectory() as folder:
        inputs, outputs = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(inputs, x=x0, config=np.array(json.dumps(cfg.to_json())), **params)
        _child(backend, cfg, inputs, outputs, None)
        with np.load(outputs) as stored:
            return stored["forward"]


def _child(backend: str, cfg: TrainConfig, inputs: Path, outputs: Path, x64: bool | None) -> None:
    command = [sys.executable, "-m", "keras_impl.backend_child", str(inputs), str(outputs)]
    env = child_environment(backend, cfg.dtype, x64)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Keras on {backend} failed:\n{done.stderr.strip()}")


def run(
    backend: str,
    params: Mapping[str, object],
    x: object,
    y: object,
    cfg: TrainConfig,
    x64: bool | None = None,
) -> dict:
    """Gradients at ``params`` and the whole run, by Keras on ``backend`` in a child process:
    ``{"loss", "grads", "result"}``. The last answer per backend is kept for the same inputs.
    ``x64`` overrides whether JAX gets ``JAX_ENABLE_X64=1`` (by default: for float64)."""
    require(backend)
    params, x0, y0 = check_inputs(params, x, y, cfg)
    key = _key(backend, params, x0, y0, cfg)
    if backend in _last and _last[backend][0] == key and x64 is None:
        return _last[backend][1]
    with tempfile.TemporaryDirectory() as folder:
        inputs, outputs = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(inputs, x=x0, y=y0, config=np.array(json.dumps(cfg.to_json())), **params)
        _child(backend, cfg, inputs, outputs, x64)
        with np.load(outputs) as stored:
            meta = json.loads(str(stored["meta"]))
            keys = list(cfg.param_shapes())
            answer = {
                "loss": meta["loss"],
                "grads": {k: stored[f"grad/{k}"] for k in keys},
                "result": TrainResult(
                    params={k: stored[f"param/{k}"] for k in keys},
                    losses=stored["losses"],
                    outputs=stored["outputs"],
                    seconds=meta["seconds"],
                    versions=meta["versions"],
                ),
            }
    if x64 is None:
        _last[backend] = (key, answer)
    return answer
