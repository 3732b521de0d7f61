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


def difference(new, old, rtol: float, atol: float) -> Difference:
    new, old = np.asarray(new, np.float64), np.asarray(old, np.float64)
    if new.shape != old.shape:
        raise ValueError(f"shapes differ: {list(new.shape)} against {list(old.shape)}")
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: both diverged alike
        gap = np.abs(new - old)
        gap = np.where(np.isnan(new) != np.isnan(old), np.inf, np.nan_to_num(gap, nan=0.0))
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


def in_envelopes(new, old, rtol: float, atol: float, envelope) -> tuple[float, tuple[int, ...]]:
    """How many envelopes the element of ``new`` furthest outside both its tolerance and its
    envelope is from ``old`` (0 when every element is within its tolerance; infinite for one
    outside it whose envelope is 0), and its index."""
    new, old = np.asarray(new, np.float64), np.asarray(old, np.float64)
    envelope = np.broadcast_to(np.asarray(envelope, np.float64), old.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        gap = np.nan_to_num(np.abs(new - old), nan=np.inf)
        outside = gap > atol + rtol * np.abs(old)
        ratio = np.where(outside, gap / envelope, 0.0)
    ratio = np.nan_to_num(ratio, nan=np.inf, posinf=np.inf)
    if not ratio.size:
        return 0.0, ()
    flat = int(np.argmax(ratio))
    return float(ratio.flat[flat]), tuple(int(i) for i in np.unravel_index(flat, old.shape))
