"""Where two arrays part, and by how much against a tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-5, 1e-7), "float64": (1e-12, 1e-14)}


@dataclass(frozen=True)
class Difference:
    """The element of ``new`` furthest outside ``atol + rtol * |old|``: its index, both values,
    and the largest absolute difference of all elements."""

    largest: float
    excess: float
    index: tuple[int, ...]
    new: float
    old: float

    @property
    def agrees(self) -> bool:
        return self.excess <= 1.0


def gaps(new, old) -> tuple[np.ndarray, np.ndarray]:
    """``|new - old|`` element by element (NaN on one side only: infinitely apart; infinities
    or NaNs alike on both: 0), and ``old``, both in float64."""
    new, old = np.asarray(new, np.float64), np.asarray(old, np.float64)
    if new.shape != old.shape:
        raise ValueError(f"shapes differ: {list(new.shape)} against {list(old.shape)}")
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: both diverged alike
        gap = np.abs(new - old)
    gap = np.where(np.isnan(new) != np.isnan(old), np.inf, np.nan_to_num(gap, nan=0.0))
    return gap, old


def difference(new, old, rtol: float, atol: float) -> Difference:
    gap, old = gaps(new, old)
    new = np.asarray(new, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = atol + rtol * np.abs(old)
        ratio = np.divide(gap, allowed, out=np.where(gap > 0, np.inf, 0.0), where=allowed > 0)
    flat = int(np.argmax(ratio)) if ratio.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, new.shape)) if new.size else ()
    return Difference(
        largest=float(gap.max()) if gap.size else 0.0,
        excess=float(ratio.flat[flat]) if ratio.size else 0.0,
        index=index,
        new=float(new[index]) if new.size else 0.0,
        old=float(old[index]) if old.size else 0.0,
    )


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


def in_envelopes(new, old, rtol: float, atol: float, envelope) -> Outside:
    """Where ``new`` is furthest outside both ``atol + rtol * |old|`` and ``envelope``."""
    gap, old = gaps(new, old)
    envelope = np.broadcast_to(np.asarray(envelope, np.float64), old.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(gap > atol + rtol * np.abs(old), gap / envelope, 0.0)
    ratio = np.nan_to_num(ratio, nan=np.inf, posinf=np.inf)
    if not ratio.size:
        return Outside(0.0, (), 0.0, 0.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), old.shape))
    return Outside(float(ratio[index]), index, float(gap[index]), float(envelope[index]))
