"""How far apart two training results are, and the tolerance within which they agree."""

from __future__ import annotations

import numpy as np

from common.result import TrainResult

# The loosest bound the tests hold between any two implementations after 500 XOR steps:
# hand-written NumPy against the frameworks (TF2, Keras and TF1 agree bit for bit).
TOLERANCE = {"float32": 1e-4, "float64": 1e-12}


def largest_difference(a: TrainResult, b: TrainResult) -> dict[str, float]:
    """The largest absolute difference in params, outputs and per-step losses."""
    return {
        "params": max(float(np.max(np.abs(a.params[k] - b.params[k]))) for k in a.params),
        "outputs": float(np.max(np.abs(a.outputs - b.outputs))),
        "losses": float(np.max(np.abs(a.losses - b.losses))),
    }
