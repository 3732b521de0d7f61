"""Carry the old program's initial weights into the port.

By default the two sides' trainable variables are paired in creation order, and each pair must
have the same shape. A port whose variables are laid out otherwise gives ``WEIGHT_MAP`` in its
file: TF1 variable name -> a port variable path, or ``(path, transform)``, or a dict of several
``{path: transform}`` (an LSTM's one TF1 kernel becomes Keras's ``kernel`` and
``recurrent_kernel``). A transform takes the TF1 array and returns the port's; it must be affine
(a permutation, a reshape, a slice, a transpose, plus a constant such as the forget bias), because
the check carries gradients over by its linear part, ``T(g) - T(0)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backprop_suite.migration.record import Record


@dataclass(frozen=True)
class Link:
    """Port variable ``port`` holds ``transform`` of TF1 variable ``tf1``."""

    tf1: int
    port: int
    transform: Callable[[np.ndarray], np.ndarray] | None = None

    def carry(self, value: np.ndarray) -> np.ndarray:
        return value if self.transform is None else np.asarray(self.transform(value))

    def carry_gradient(self, grad: np.ndarray) -> np.ndarray:
        if self.transform is None:
            return grad
        return np.asarray(self.transform(grad)) - np.asarray(self.transform(np.zeros_like(grad)))


def _sides(tf1_names, tf1_values, port_names, port_values) -> str:
    left = [f"{n} {list(np.shape(v))}" for n, v in zip(tf1_names, tf1_values)]
    right = [f"{n} {list(np.shape(v))}" for n, v in zip(port_names, port_values)]
    return f"TF1: {', '.join(left)}; port: {', '.join(right)}"


def _entries(target) -> list[tuple[str, Callable | None]]:
    if isinstance(target, str):
        return [(target, None)]
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        return [target]
    if isinstance(target, dict):
        return list(target.items())
    raise ValueError(
        f"WEIGHT_MAP values are a path, (path, transform) or {{path: transform}}, got {target!r}"
    )


def link_weights(
    tf1_names: list[str],
    tf1_values: list[np.ndarray],
    port_names: list[str],
    port_values: list[np.ndarray],
    weight_map: dict | None = None,
    complete: bool = True,
) -> list[Link]:
    """Pair every port variable with the TF1 variable it comes from; any mismatch is a
    ``ValueError`` that lists both sides' names and shapes. ``complete=False`` pairs only what
    ``weight_map`` names (state, which is compared but not trained)."""
    sides = _sides(tf1_names, tf1_values, port_names, port_values)
    if weight_map is None and not complete:
        return []
    if weight_map is None:
        if len(tf1_names) != len(port_names):
            raise ValueError(
                f"TF1 has {len(tf1_names)} trainable variables, the port {len(port_names)} "
                f"(give WEIGHT_MAP in the port's file): {sides}"
            )
        for i, (a, b) in enumerate(zip(tf1_values, port_values)):
            if np.shape(a) != np.shape(b):
                raise ValueError(
                    f"variable {i} in creation order: TF1 {tf1_names[i]} {list(np.shape(a))} "
                    f"against port {port_names[i]} {list(np.shape(b))} (give WEIGHT_MAP): {sides}"
                )
        return [Link(i, i) for i in range(len(tf1_names))]
    links, seen = [], {}
    for tf1_name, target in weight_map.items():
        if tf1_name not in tf1_names:
            raise ValueError(f"WEIGHT_MAP names {tf1_name!r}, which TF1 does not have: {sides}")
        for path, transform in _entries(target):
            if path not in port_names:
                raise ValueError(
                    f"WEIGHT_MAP names port variable {path!r}, which the port does not have: "
                    f"{sides}"
                )
            if path in seen:
                raise ValueError(
                    f"WEIGHT_MAP fills port variable {path!r} twice ({seen[path]}, {tf1_name})"
                )
            seen[path] = tf1_name
            link = Link(tf1_names.index(tf1_name), port_names.index(path), transform)
            carried = link.carry(tf1_values[link.tf1])
            if carried.shape != np.shape(port_values[link.port]):
                raise ValueError(
                    f"WEIGHT_MAP carries {tf1_name} {list(np.shape(tf1_values[link.tf1]))} to "
                    f"{path} as {list(carried.shape)}, but {path} is "
                    f"{list(np.shape(port_values[link.port]))}"
                )
            links.append(link)
    if not complete:
        return links
    unfilled = [n for n in port_names if n not in seen]
    unused = [n for n in tf1_names if n not in weight_map]
    if unfilled or unused:
        raise ValueError(
            f"WEIGHT_MAP leaves port variables {unfilled} unfilled and TF1 variables {unused} "
            f"unused: {sides}"
        )
    return sorted(links, key=lambda link: link.port)


def split_weight_map(weight_map: dict | None, record: Record) -> tuple:
    """``WEIGHT_MAP``'s entries for trained variables, and those for TF1 state (variables no
    gradient reaches, moving statistics, counters), which are compared but not trained."""
    state_names = record.state_names
    if weight_map is None:
        return None, {}
    if not isinstance(weight_map, dict):
        raise ValueError(f"WEIGHT_MAP must be a dict, got {type(weight_map).__name__}")
    trained = {k: v for k, v in weight_map.items() if k not in state_names}
    every = record.meta.get("variables", [])
    unkept = [k for k in trained if k not in record.names and k in every]
    if unkept:
        raise ValueError(
            f"WEIGHT_MAP names TF1's {unkept}, which TF1 does not train and its record did not "
            "keep: record it with run_tf1(..., keep=WEIGHT_MAP's names), as check_migration does"
        )
    return trained, {k: v for k, v in weight_map.items() if k in state_names}
