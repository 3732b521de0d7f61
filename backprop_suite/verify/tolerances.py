"""Every bound the suite holds two runs to, in one table, and the one rule that measures against
them: ``new`` agrees with ``old`` where ``|new - old| <= atol + rtol * |old|`` (NumPy's
``isclose``, and jax's ``public_test_util``), element by element.

A NaN on one side only is infinitely far; NaNs, or the same infinity, on both sides are alike
(a run that diverged is caught before it is compared: non-finite data is never agreement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, order=True)
class Tolerance:
    atol: float
    rtol: float

    def describe(self) -> str:
        if self.atol == self.rtol:
            return f"{self.rtol:.0e} x (1 + |value|)"
        return f"{self.atol:.0e} + {self.rtol:.0e} x |value|"


def within(tol: float) -> Tolerance:
    """``tol`` as both the absolute and the relative bound: relative above 1, absolute below."""
    return Tolerance(atol=tol, rtol=tol)


# Between two implementations after 500 XOR steps, the loosest pair being the hand-written NumPy
# against the frameworks (TF1, TF2 and Keras agree bit for bit).
BETWEEN_IMPLEMENTATIONS = {"float32": within(1e-4), "float64": within(1e-12)}
# Where an implementation cannot meet its dtype's bound, the bound it is judged at, and why.
WIDER = {
    ("keras-torch", "float64"): (
        BETWEEN_IMPLEMENTATIONS["float32"],
        "Keras 3.15's torch backend does its matmul in float32 even for float64 tensors "
        "(keras-team/keras#23704), so keras-torch is judged at the float32 tolerance",
    )
}
# A TF1 program against its port, stage by stage (backprop_suite.migration)
MIGRATION = {
    "float16": Tolerance(atol=1e-3, rtol=1e-2),
    "float32": Tolerance(atol=1e-7, rtol=1e-5),
    "float64": Tolerance(atol=1e-14, rtol=1e-12),
}
# backprop-explain's hand-written chain rule against TF's gradient, float64 throughout
CHAIN_RULE = Tolerance(atol=1e-12, rtol=0.0)
# backprop_suite.gradcheck: an analytic gradient of this dtype against float64 five-point
# differences, per element atol x (the variable's largest gradient, at least 1) + rtol x |numeric|
# A mixed policy's float16 or bfloat16 compute is held to its own entry: about 3 times the smallest
# bound that passed every element of seven field models (own_mixed_mlp, docs_mixed_precision_mlp,
# own_attention_block, own_dropout_batchnorm_conv, own_embedding_bag, own_nested_backbone,
# own_time_distributed_cell; no ReLU among them), 100 seeds of weights each
# (`gradcheck_alarms --field ... --errors`; 2-core AMD EPYC, avx2 avx512f avx512_bf16, TF 2.21,
# Keras 3.15.1). Worst |analytic - numeric| / scale, and the smallest atol beside an rtol of 0.01
# and 0.03: float16 0.0151, 0.0080, 0.0061; bfloat16 0.0794, 0.0694, 0.0505 (both worst on
# own_attention_block's key kernel, seed 96: -2.42 and -2.66 against -2.46)
GRADCHECK = {
    "float64": Tolerance(atol=1e-8, rtol=1e-6),
    "float32": Tolerance(atol=1e-4, rtol=2e-3),
    "float16": Tolerance(atol=2.5e-2, rtol=3e-2),  # 3 x (0.0080 beside rtol 0.01)
    "bfloat16": Tolerance(atol=1.5e-1, rtol=1e-1),  # 3 x (0.0505 beside rtol 0.03), rounded
}
# Keras 3 on another backend against Keras on TensorFlow and against NumPy, (backend, dtype) ->
# bound, with the largest difference measured over tests/backends/test_keras_backends.py's five
# cases (2-core AMD EPYC, Keras 3.15.1, jax 0.10.2, torch 2.13.0+cpu)
BACKENDS = {
    ("jax", "float64"): within(1e-12),  # 2.2e-14 (Keras's tanh and mean replaced: exact_ops)
    ("jax", "float32"): within(1e-4),  # the NumPy tolerance; 9.9e-6
    ("torch", "float32"): within(1e-4),  # 1.2e-5
    # Keras 3.15's torch backend does its matmul in float32 for float64 tensors
    # (keras-team/keras#23704): float64 on torch is float32 arithmetic in its matmuls
    ("torch", "float64"): within(1e-4),  # 3.2e-6
}
# backprop_suite.gradcheck, a user's model on another backend against TensorFlow: the bound and
# why it is not the dtype's own. Such a model uses Keras's own ops, and on JAX Keras 3.15's tanh
# and mean round float64 through float32 (keras_impl/exact_ops.py, where the suite avoids them)
ACROSS_BACKENDS = {
    ("jax", "float32"): (BACKENDS[("jax", "float32")], ""),
    ("jax", "float64"): (
        BACKENDS[("jax", "float32")],
        "Keras 3.15's JAX tanh and mean compute float64 in float32 (keras_impl/exact_ops.py)",
    ),
    ("torch", "float32"): (BACKENDS[("torch", "float32")], ""),
    ("torch", "float64"): (BACKENDS[("torch", "float64")], WIDER[("keras-torch", "float64")][1]),
}
# Data-parallel training against one device: the replicas' partial sums add in another order
# (tests/distributed/test_distributed.py), absolute
REPLICAS = {"float32": Tolerance(atol=3e-6, rtol=0.0), "float64": Tolerance(atol=1e-14, rtol=0.0)}
# Keras's Nesterov step against TF1's kernel, by rounding alone: TF's graph optimizer rewrites
# grad·rate + accumulation·momentum·rate as (grad + accumulation·momentum)·rate, which
# tests/agreement/test_keras_optimizers.py proves by turning that rewrite off. Measured over
# tests/agreement/test_optimizers.py's full matrix (-m exhaustive): 1.2e-7 in float32, 4.4e-16 in
# float64.
NESTEROV_ROUNDING = {
    "float32": Tolerance(atol=5e-7, rtol=0.0),
    "float64": Tolerance(atol=2e-15, rtol=0.0),
}


@dataclass(frozen=True)
class Difference:
    """The element of ``new`` furthest outside its tolerance: its index, both values, how far out
    (``excess``, above 1 outside), and the largest absolute difference of all elements."""

    largest: float
    excess: float
    index: tuple[int, ...]
    new: float
    old: float

    @property
    def agrees(self) -> bool:
        return self.excess <= 1.0


def gaps(new, old) -> tuple[np.ndarray, np.ndarray]:
    """``|new - old|`` element by element, by the rule above, and ``old``, both in float64."""
    new, old = np.asarray(new, np.float64), np.asarray(old, np.float64)
    if new.shape != old.shape:
        raise ValueError(f"shapes differ: {list(new.shape)} against {list(old.shape)}")
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: both diverged alike
        gap = np.abs(new - old)
    gap = np.where(np.isnan(new) != np.isnan(old), np.inf, np.nan_to_num(gap, nan=0.0))
    return gap, old


def excess(new, old, tolerance: Tolerance) -> np.ndarray:
    """``|new - old| / (atol + rtol * |old|)`` element by element: above 1 where they part."""
    return beyond(*gaps(new, old), tolerance)


def beyond(gap: np.ndarray, old: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """``excess`` from ``gaps``' two arrays, for a caller that needs the gaps too."""
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = tolerance.atol + tolerance.rtol * np.abs(old)
        return np.divide(gap, allowed, out=np.where(gap > 0, np.inf, 0.0), where=allowed > 0)


def difference(new, old, tolerance: Tolerance) -> Difference:
    """Where ``new`` is furthest outside ``tolerance`` of ``old``."""
    gap, old = gaps(new, old)
    ratio = beyond(gap, old, tolerance)
    new = np.asarray(new, np.float64)
    if not ratio.size:
        return Difference(largest=0.0, excess=0.0, index=(), new=0.0, old=0.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    return Difference(
        largest=float(gap.max()),
        excess=float(ratio[index]),
        index=index,
        new=float(new[index]),
        old=float(old[index]),
    )
