"""How far a run moves when its inputs move by one rounding: the bound for a run whose training
amplifies rounding, where a fixed per-element tolerance cannot tell a port's last-bit difference
from a mistake.

The sweep's ``--check`` holds each retrained net to ``MARGIN`` times how far ``NUDGES`` runs from
its initial weights each moved by one rounding part from it; the migration check holds a port to
``MARGIN`` times how far the TF1 program parts from itself under such moves. Measured
(docs/sweep.md): every retrained net within 5.9 times its sensitivity, in both dtypes, at rates
where one rounding grows a billionfold as at rates where it grows some hundredfold.
"""

from __future__ import annotations

import numpy as np

MARGIN = 100
NUDGES = 8


def nudge(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every element moved by one rounding (one unit in the last place), up or down at random."""
    value = np.asarray(value)
    return np.where(
        rng.random(value.shape) < 0.5,
        np.nextafter(value, np.inf, dtype=value.dtype),
        np.nextafter(value, -np.inf, dtype=value.dtype),
    )


def nudged(params: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every weight of ``params`` moved by one rounding (``nudge``)."""
    return {key: nudge(value, rng) for key, value in params.items()}
