"""The optimizers of TF1's ``tf.compat.v1.train``, their arguments named and defaulted as TF1's
constructors name and default them, and TF1's ``exponential_decay`` of the rate.

- ``sgd``: ``GradientDescentOptimizer``, no arguments;
- ``momentum``: ``MomentumOptimizer``: ``momentum`` (TF1 has no default: required),
  ``use_nesterov=False``;
- ``adam``: ``AdamOptimizer``: ``beta1=0.9``, ``beta2=0.999``, ``epsilon=1e-8``;
- ``rmsprop``: ``RMSPropOptimizer``: ``decay=0.9``, ``momentum=0.0``, ``epsilon=1e-10``,
  ``centered=False``;
- ``adagrad``: ``AdagradOptimizer``: ``initial_accumulator_value=0.1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

REQUIRED = object()

DEFAULTS: dict[str, dict[str, object]] = {
    "sgd": {},
    "momentum": {"momentum": REQUIRED, "use_nesterov": False},
    "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "rmsprop": {"decay": 0.9, "momentum": 0.0, "epsilon": 1e-10, "centered": False},
    "adagrad": {"initial_accumulator_value": 0.1},
}
OPTIMIZERS = tuple(DEFAULTS)


def slot_starts(optimizer: str, args: Mapping[str, object]) -> dict[str, float]:
    """The slots TF1's optimizer keeps for every weight, named as TF1 names them, each with the
    value it starts at: the one place they are written, for NumPy, TF2 and Keras alike."""
    if optimizer == "momentum":
        return {"momentum": 0.0}
    if optimizer == "adam":
        return {"m": 0.0, "v": 0.0}
    if optimizer == "rmsprop":
        return {"rms": 1.0, "momentum": 0.0} | ({"mg": 0.0} if args["centered"] else {})
    if optimizer == "adagrad":
        return {"accumulator": args["initial_accumulator_value"]}
    return {}


# the range each number may take: (low, low included, high, high included)
RANGES = {
    "momentum": (0.0, True, math.inf, False),
    "beta1": (0.0, True, 1.0, False),
    "beta2": (0.0, True, 1.0, False),
    "epsilon": (0.0, False, math.inf, False),
    "decay": (0.0, True, 1.0, False),
    "initial_accumulator_value": (0.0, False, math.inf, False),
}


class OptimizerArgs(Mapping):
    """A frozen, hashable mapping of an optimizer's arguments, every default filled in."""

    def __init__(self, items: Mapping[str, object]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __repr__(self) -> str:
        return repr(self._items)


def _check_value(optimizer: str, name: str, value: object) -> object:
    default = DEFAULTS[optimizer][name]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{optimizer} argument {name} must be True or False, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{optimizer} argument {name} must be a number, got {value!r}")
    low, low_included, high, high_included = RANGES[name]
    above = value >= low if low_included else value > low
    below = value <= high if high_included else value < high
    if not (math.isfinite(value) and above and below):
        interval = f"{'[' if low_included else '('}{low:g}, {high:g}{']' if high_included else ')'}"
        raise ValueError(f"{optimizer} argument {name} must be in {interval}, got {value!r}")
    return float(value)


def optimizer_args(optimizer: str, given: Mapping[str, object] | None) -> OptimizerArgs:
    """``given`` checked against ``optimizer``'s TF1 constructor, with TF1's defaults added."""
    if optimizer not in DEFAULTS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}"
        )
    given = {} if given is None else given
    if not isinstance(given, Mapping):
        raise ValueError(f"optimizer_args must be a mapping, got {given!r}")
    defaults = DEFAULTS[optimizer]
    unknown = [name for name in given if name not in defaults]
    if unknown:
        known = ", ".join(defaults) or "none"
        raise ValueError(f"unknown {optimizer} argument {unknown[0]!r}; TF1's takes {known}")
    args = {}
    for name, default in defaults.items():
        if name not in given and default is REQUIRED:
            raise ValueError(
                f"{optimizer} needs optimizer_args[{name!r}]: TF1's constructor has no default"
            )
        args[name] = _check_value(optimizer, name, given.get(name, default))
    return OptimizerArgs(args)


def check_decay(decay_steps: object, decay_rate: object, staircase: object) -> None:
    """TF1's ``exponential_decay(rate, global_step, decay_steps, decay_rate, staircase)``: both
    numbers or neither (no decay)."""
    if not isinstance(staircase, bool):
        raise ValueError(f"staircase must be True or False, got {staircase!r}")
    if decay_steps is None and decay_rate is None:
        if staircase:
            raise ValueError("staircase needs decay_steps and decay_rate")
        return
    if decay_steps is None or decay_rate is None:
        raise ValueError("decay_steps and decay_rate go together: give both or neither")
    if isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps <= 0:
        raise ValueError(f"decay_steps must be a positive integer, got {decay_steps!r}")
    if isinstance(decay_rate, bool) or not isinstance(decay_rate, (int, float)):
        raise ValueError(f"decay_rate must be a number, got {decay_rate!r}")
    if not math.isfinite(decay_rate) or decay_rate <= 0:
        raise ValueError(f"decay_rate must be positive and finite, got {decay_rate!r}")
