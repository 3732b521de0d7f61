"""What ``train`` returns in every implementation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainResult:
    """``params``: the trained weights; ``losses``: one per step, the loss of that step's batch
    before its update; ``outputs``: the forward pass of the trained net on the training inputs.
    A run made in another process (Keras on another backend) also gives ``seconds``, its training
    time measured there, and ``versions``, the libraries that trained it."""

    params: dict[str, np.ndarray]
    losses: np.ndarray
    outputs: np.ndarray
    seconds: float | None = None
    versions: dict[str, str] | None = None

    @property
    def diverged_at(self) -> int | None:
        """The first step whose loss is NaN or inf, or None if training stayed finite."""
        bad = np.flatnonzero(~np.isfinite(self.losses))
        if bad.size:
            return int(bad[0])
        if not all(np.all(np.isfinite(value)) for value in self.params.values()):
            return len(self.losses)
        return None

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])
