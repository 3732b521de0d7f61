"""The seed program's dataset."""

from __future__ import annotations

import numpy as np


def xor_data(dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points in the seed's order: x (4, 2) and y (4, 1)."""
    x = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype=dtype)
    return x, y
