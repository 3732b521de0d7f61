"""The seed program's dataset, and a larger noisy version of it."""

from __future__ import annotations

import math

import numpy as np

XOR_X = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
XOR_Y = [[0.0], [0.0], [1.0], [1.0]]


def xor_data(dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points in the seed's order: x (4, 2) and y (4, 1)."""
    return np.array(XOR_X, dtype=dtype), np.array(XOR_Y, dtype=dtype)


def noisy_xor(
    n: int, noise: float = 0.1, seed: int = 0, dtype: str = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points: the four XOR corners in the seed's order, repeated, each input moved by
    Gaussian noise of standard deviation ``noise``; the target stays its corner's XOR."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"noisy_xor needs a positive integer n, got {n!r}")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float))
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(f"noisy_xor needs a finite noise >= 0, got {noise!r}")
    corners = np.arange(n) % 4
    x = np.array(XOR_X)[corners] + np.random.default_rng(seed).normal(0.0, noise, (n, 2))
    return x.astype(dtype), np.array(XOR_Y)[corners].astype(dtype)
