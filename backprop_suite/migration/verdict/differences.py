"""Where a port's values part from TF1's against both the tolerance and TF1's own envelope."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_suite.verify.tolerances import Difference, Tolerance, beyond, gaps


def worst(differences: list[Difference]) -> tuple[int, Difference]:
    """The position and the difference that exceeds its tolerance most."""
    position = max(range(len(differences)), key=lambda i: differences[i].excess)
    return position, differences[position]


def at(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, index))}]" if index else name


@dataclass(frozen=True)
class Outside:
    """The element furthest outside both its tolerance and its envelope: how many envelopes
    out (0 when every element is within its tolerance; infinite for one outside it whose
    envelope is 0), its index, ``|new - old|`` there and the envelope there."""

    envelopes: float
    index: tuple[int, ...]
    gap: float
    own: float

    def describe(self, name: str) -> str:
        return (
            f"{at(name, self.index)}, |port - TF1| {self.gap:.2e} against TF1's own {self.own:.2e}"
        )


def in_envelopes(new, old, tolerance: Tolerance, envelope) -> Outside:
    """Where ``new`` is furthest outside both ``tolerance`` and ``envelope``."""
    gap, old = gaps(new, old)
    envelope = np.broadcast_to(np.asarray(envelope, np.float64), old.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(beyond(gap, old, tolerance) > 1, gap / envelope, 0.0)
    ratio = np.nan_to_num(ratio, nan=np.inf, posinf=np.inf)
    if not ratio.size:
        return Outside(0.0, (), 0.0, 0.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), old.shape))
    return Outside(float(ratio[index]), index, float(gap[index]), float(envelope[index]))
