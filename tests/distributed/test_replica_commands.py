"""The commands' data-parallel runs in this process, where the CPU is split in four
(``conftest.py``): the documented ``compare.py --replicas 2`` and bench's replica rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from script_runner import load, run_in_process

from backprop_suite.bench import replicas

ROOT = Path(__file__).resolve().parents[2]
REPLICAS = "python scripts/compare.py --replicas 2 --dtype float64"


@pytest.mark.slow
@pytest.mark.parametrize("page", ["docs/distributed.md"])
def test_the_documented_data_parallel_comparison_exits_0(page):
    assert REPLICAS in (ROOT / page).read_text(), f"{page} no longer says {REPLICAS!r}"
    done = run_in_process(load("compare"), *REPLICAS.split()[2:])
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr


def test_bench_times_tf_and_keras_on_1_2_and_4_replicas(capsys):
    timings = replicas.replica_rows(1, rows=64, steps=2)  # the CPU is split in four (conftest.py)
    spread = [(row["impl"], row["replicas"], row["ratio_to_one"]) for row in timings]
    assert [(name, n) for name, n, _ in spread] == [
        (name, n) for name in ("tf", "keras") for n in (1, 2, 4)
    ]
    assert all(ratio == 1.0 for _, n, ratio in spread if n == 1)
    assert all(np.isfinite(row["median_s"]) and row["median_s"] > 0 for row in timings)
    replicas.print_replicas(timings)
    printed = capsys.readouterr().out
    assert "data-parallel on logical CPUs of one CPU (overhead, not speed-up)" in printed
