"""What one ``backprop-bench`` run times, and how much of it: the full run, ``--quick``, and the
smallest plan, which times only NumPy for a few steps (the tests' plan for the command line and
its outputs; no number of it is meant to be read).

``None`` leaves a part out: the end-to-end processes, the targets, the other parts each have
their own ``--no-…`` option too."""

from __future__ import annotations

from dataclasses import dataclass, replace

from backprop_suite.bench.many_nets import NETS
from backprop_suite.bench.modes import BASELINE, MANUAL
from backprop_suite.bench.replicas import REPLICA_ROWS, REPLICA_STEPS
from backprop_suite.bench.scaling import SAMPLES, WIDTHS
from backprop_suite.bench.sweep import SWEEP_NETS
from backprop_suite.verify.registry import IMPLEMENTATIONS


@dataclass(frozen=True)
class Plan:
    steps: int = 500
    repeats: int = 5
    modes: tuple[str, ...] | None = None  # None: every mode
    end_to_end_repeats: int | None = 3
    judged: bool = True  # the speed targets are set for this full run
    implementations: tuple[str, ...] = tuple(IMPLEMENTATIONS)
    widths: tuple[int, ...] = WIDTHS
    samples: tuple[int, ...] = SAMPLES
    scaling_repeats: int = 3
    replica_rows: int | None = REPLICA_ROWS
    replica_steps: int = REPLICA_STEPS
    replica_repeats: int = 3
    sweep_nets: int | None = SWEEP_NETS
    sweep_steps: int = 500
    sweep_repeats: int = 3
    profile_nets: tuple[int, ...] = NETS
    matmul_steps: int = 200


FULL = Plan()
QUICK = Plan(
    steps=20,
    repeats=2,
    end_to_end_repeats=None,
    judged=False,
    widths=(3, 16),
    samples=(4, 100),
    scaling_repeats=1,
    replica_rows=1_000,
    replica_steps=20,
    replica_repeats=1,
    sweep_nets=200,
    sweep_steps=20,
    sweep_repeats=1,
    profile_nets=(1, 100),
    matmul_steps=20,
)
SMALLEST = replace(
    QUICK,
    steps=2,
    repeats=1,
    modes=(MANUAL, BASELINE),
    implementations=("manual",),
    widths=(3,),
    samples=(4,),
    replica_rows=None,
    sweep_nets=None,
)
