"""Checks that every implementation runs before any work: bad input raises ValueError."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from backprop_suite.core.config import TrainConfig


def numeric_array(name: str, value: object) -> np.ndarray:
    """``value`` as an array of real numbers; ValueError naming ``name`` if it is not one."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} is not an array of numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


def require_finite(name: str, array: np.ndarray) -> None:
    """ValueError naming ``name``, the first value that is NaN or inf and its index."""
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains NaN or inf ({array[index]} at index {index})")


def as_float_array(name: str, value: object, dtype: str) -> np.ndarray:
    """``value`` as a new array of ``dtype``; ValueError if it is not numeric or not finite."""
    array = numeric_array(name, value).astype(dtype, copy=True)
    require_finite(name, array)
    return array


def check_keys(params: object, cfg: TrainConfig, name: str) -> dict[str, tuple[int, ...]]:
    """``params`` is a mapping with exactly ``cfg``'s weight keys; returns their shapes."""
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if not isinstance(params, Mapping):
        raise ValueError(f"{name} must be a dict of arrays, got {type(params).__name__}")
    shapes = cfg.param_shapes()
    missing = [key for key in shapes if key not in params]
    if missing:
        raise ValueError(f"missing weight keys {missing} for layers {cfg.layers}")
    unexpected = sorted(set(params) - set(shapes))
    if unexpected:
        raise ValueError(f"unexpected weight keys {unexpected} for layers {cfg.layers}")
    return shapes


def check_params(params: Mapping[str, object], cfg: TrainConfig) -> dict[str, np.ndarray]:
    """A fresh copy of the weights cast to ``cfg.dtype``, checked against ``cfg.layers``."""
    shapes = check_keys(params, cfg, "params")
    checked = {}
    for key, shape in shapes.items():
        array = as_float_array(f"weight {key}", params[key], cfg.dtype)
        if array.shape != shape:
            raise ValueError(
                f"weight {key} has shape {array.shape}, layers {cfg.layers} need {shape}"
            )
        checked[key] = array
    return checked


def _check_matrix(name: str, value: object, width: int, cfg: TrainConfig) -> np.ndarray:
    array = as_float_array(name, value, cfg.dtype)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"{name} has shape {array.shape}, layers {cfg.layers} need (samples, {width})"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no samples")
    return array


def check_x(x: object, cfg: TrainConfig) -> np.ndarray:
    """A copy of the inputs ``x`` (n, layers[0]) cast to ``cfg.dtype``."""
    return _check_matrix("x", x, cfg.layers[0], cfg)


def check_data(x: object, y: object, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``x`` (n, layers[0]) and ``y`` (n, layers[-1]) cast to ``cfg.dtype``."""
    x0 = check_x(x, cfg)
    y0 = _check_matrix("y", y, cfg.layers[-1], cfg)
    if x0.shape[0] != y0.shape[0]:
        raise ValueError(f"x has {x0.shape[0]} samples but y has {y0.shape[0]}")
    return x0, y0


def check_inputs(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Validate the config, weights and data in one call, as every ``train`` does first."""
    return check_params(params, cfg), *check_data(x, y, cfg)


def require_one_device(cfg: TrainConfig, implementation: str) -> None:
    """The single-device references (``manual``, ``tf1``) and Keras on JAX or PyTorch refuse
    ``replicas`` > 1: only ``tf`` and ``keras`` train through ``tf.distribute``."""
    if cfg.replicas != 1:
        raise ValueError(
            f"{implementation} trains on one device; replicas={cfg.replicas} is for the tf and "
            "keras implementations (compare.py --replicas trains those data-parallel and keeps "
            "the others as single-device references)"
        )
