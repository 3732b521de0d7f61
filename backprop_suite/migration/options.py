"""The migration check's options, checked before TensorFlow is imported."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from backprop_suite.core import DTYPES
from backprop_suite.core.memory import require_fits
from backprop_suite.verify.tolerances import MIGRATION, Tolerance

RANDOM_MODES = ("aligned", "off", "as-is")
ENVELOPE_MODES = ("auto", "always", "off")
LAYER_MODES = ("failing", "always", "off")
# what the check keeps of every step at the least: its batch and its weights, a list each
STEP_BYTES = 2 * sys.getsizeof([])


@dataclass(frozen=True)
class Options:
    """``steps`` updates from the same weights; ``dtype`` passed to both programs (when given);
    tolerances ``|new - old| <= atol + rtol * |old|``, by default those of the loss's dtype
    (``backprop_suite.verify.tolerances.MIGRATION``); ``random``: what dropout does
    (``random_ops``); ``envelope``: when TF1's own envelope is measured (``envelope``): when a step
    after the first is outside the tolerance (auto), before the check (always), or never (off: every
    step strict); ``layers``: when the layers are compared (``verdict.layers``): when a stage
    after the weights fails (failing), on a passing check too (always), or never (off);
    ``isolate``: give each port layer TF1's own input too; ``layer_map``: (port layer, TF1
    tensor) pairs, the layer's output, which make a layer without variables a row of its
    own."""

    steps: int = 10
    dtype: str | None = None
    rtol: float | None = None
    atol: float | None = None
    random: str = "aligned"
    seed: int = 0
    data: str | None = None
    envelope: str = "auto"
    layers: str = "failing"
    isolate: bool = False
    layer_map: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps must be a whole number of at least 1, got {self.steps!r}")
        require_fits(
            f"steps {self.steps} (each step's batch and weights, kept)", self.steps * STEP_BYTES
        )
        if self.dtype is not None and self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, float | int) and 0 <= value < np.inf):
                raise ValueError(f"{name} must be a number of at least 0, got {value!r}")
        if self.envelope not in ENVELOPE_MODES:
            raise ValueError(
                f"envelope must be one of {', '.join(ENVELOPE_MODES)}, got {self.envelope!r}"
            )
        if self.layers not in LAYER_MODES:
            raise ValueError(f"layers must be one of {', '.join(LAYER_MODES)}, got {self.layers!r}")
        pairs = self.layer_map
        if not isinstance(pairs, tuple) or not all(
            isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) and s for s in p)
            for p in pairs
        ):
            raise ValueError(
                f"layer_map must be (port layer, TF1 tensor) pairs of names, got {pairs!r}"
            )
        if self.random not in RANDOM_MODES:
            raise ValueError(
                f"random must be one of {', '.join(RANDOM_MODES)}, got {self.random!r}"
            )

    def tolerance(self, dtype: str) -> Tolerance:
        """The bound for a loss of ``dtype``: its own, with the ``rtol`` and ``atol`` given."""
        default = MIGRATION.get(dtype, MIGRATION["float32"])
        return Tolerance(
            atol=default.atol if self.atol is None else self.atol,
            rtol=default.rtol if self.rtol is None else self.rtol,
        )
