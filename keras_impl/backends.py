"""Keras 3 on JAX or PyTorch, run in a child process.

Keras fixes its backend when it is imported, so a run on another backend happens in a process of its
own (``python -m backprop_suite.children.keras_backend``) with ``KERAS_BACKEND`` set, and, for
float64 on JAX, ``JAX_ENABLE_X64=1``: without it JAX computes in float32 even where the layers say
float64 (``tests/backends/test_keras_backends.py`` shows it). The child trains with ``keras_impl``
itself and sends back the gradients at the initial weights and the run, in the weight format. One
child run answers ``loss_and_grads``, ``train`` and ``forward`` for the same inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from backprop_suite.core import (
    TrainConfig,
    TrainResult,
    check_inputs,
    check_params,
    check_x,
    require_one_device,
)
from backprop_suite.verify.registry import require_backend as require

_last: dict[str, tuple[str, dict]] = {}


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


def _child(backend: str, cases: list[tuple], x64: bool | None) -> tuple[dict, dict]:
    """Run ``cases`` (cfg, params, x, y or None) in one child process: its meta and arrays."""
    with tempfile.TemporaryDirectory() as folder:
        inputs, outputs = Path(folder) / "in.npz", Path(folder) / "out.npz"
        arrays: dict[str, np.ndarray] = {"cases": np.array(len(cases))}
        for case, (cfg, params, x, y, *jit) in enumerate(cases):
            arrays[f"{case}/config"] = np.array(json.dumps(cfg.to_json()))
            if jit and jit[0] is not None:
                arrays[f"{case}/jit"] = np.array("1" if jit[0] else "0")
            arrays.update({f"{case}/param/{k}": v for k, v in params.items()})
            arrays[f"{case}/x"] = x
            if y is not None:
                arrays[f"{case}/y"] = y
        np.savez(inputs, **arrays)
        command = [
            sys.executable,
            "-m",
            "backprop_suite.children.keras_backend",
            str(inputs),
            str(outputs),
        ]
        dtype = cases[0][0].dtype
        env = child_environment(backend, dtype, x64)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"Keras on {backend} failed:\n{done.stderr.strip()}")
        with np.load(outputs) as stored:
            return json.loads(str(stored["meta"])), {k: stored[k] for k in stored.files}


def forward(backend: str, params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """y_out for inputs ``x``, by the model on ``backend`` (a child run that does not train)."""
    require(backend)
    params, x0 = check_params(params, cfg), check_x(x, cfg)
    return _child(backend, [(cfg, params, x0, None)], None)[1]["0/forward"]


def run_many(
    backend: str, cases: list[tuple], x64: bool | None = None, jit: list[bool] | None = None
) -> list[dict]:
    """Each case ``(params, x, y, cfg)`` by Keras on ``backend``, all in one child process (the
    cases share one dtype): per case ``{"loss", "grads", "result"}``, the gradients at ``params``
    and the whole run. ``x64`` overrides whether JAX gets ``JAX_ENABLE_X64=1`` (by default: for
    float64); ``jit``, per case, whether JAX compiles with XLA (by default: it does)."""
    require(backend)
    checked = [check_inputs(params, x, y, cfg) + (cfg,) for params, x, y, cfg in cases]
    for *_, cfg in checked:
        require_one_device(cfg, f"keras-{backend}")
    if len({cfg.dtype for *_, cfg in checked}) > 1:
        raise ValueError("the cases of one child run share one dtype")
    flags = jit or [None] * len(checked)
    meta, arrays = _child(
        backend, [(cfg, p, x, y, f) for (p, x, y, cfg), f in zip(checked, flags)], x64
    )
    answers = []
    for case, ((*_, cfg), found) in enumerate(zip(checked, meta["cases"])):
        keys = list(cfg.param_shapes())
        result = TrainResult(
            params={k: arrays[f"{case}/param/{k}"] for k in keys},
            losses=arrays[f"{case}/losses"],
            outputs=arrays[f"{case}/outputs"],
            seconds=found["seconds"],
            versions=meta["versions"],
        )
        grads = {k: arrays[f"{case}/grad/{k}"] for k in keys}
        answers.append({"loss": found["loss"], "grads": grads, "result": result})
    return answers


def run(backend: str, params: Mapping[str, object], x: object, y: object, cfg: TrainConfig) -> dict:
    """``run_many`` for one case; the last answer per backend is kept, so that
    ``loss_and_grads`` and then ``train`` on the same inputs cost one child process."""
    require(backend)
    checked_params, x0, y0 = check_inputs(params, x, y, cfg)
    key = _key(backend, checked_params, x0, y0, cfg)
    if backend not in _last or _last[backend][0] != key:
        _last[backend] = (key, run_many(backend, [(checked_params, x0, y0, cfg)])[0])
    return _last[backend][1]


def functions_for(backend: str) -> tuple:
    """``loss_and_grads``, ``train`` and ``forward`` on ``backend``: the three functions every
    implementation module has (``keras_impl.on_jax``, ``on_torch``)."""

    def loss_and_grads(
        params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
    ) -> tuple[float, dict[str, np.ndarray]]:
        answer = run(backend, params, x, y, cfg)
        return answer["loss"], answer["grads"]

    def train(params: Mapping[str, object], x: object, y: object, cfg: TrainConfig) -> TrainResult:
        return run(backend, params, x, y, cfg)["result"]

    def forward_on(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
        return forward(backend, params, x, cfg)

    return loss_and_grads, train, forward_on
