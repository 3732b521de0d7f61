"""The execution modes of the seed's 500-step job, timed in one process, their ratios to the TF1
Session loop and the speed targets judged on them; Keras's modes on other backends, each timed in
a process of its own; and the end-to-end time of a fresh ``backprop-compare``."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable

import numpy as np

from backprop_suite.bench.timing import Progress, first_and_median, silent, timed
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.verify.registry import load_implementation

TF1_LOOP = "TF1 Session loop (seed program)"
TF2_DEFAULT = "TF2 compiled loop (tf_impl default)"
KERAS_EPOCHS = "Keras fit(epochs=steps)"
KERAS_DEFAULT = "Keras one epoch (keras_impl default)"
MANUAL = "manual_impl (default)"
BASELINE = "NumPy baseline (bench.modes)"


def numpy_baseline(params: dict, x: np.ndarray, y: np.ndarray, steps: int, rate: float) -> dict:
    """Backprop for the 2-3-1 net as a first NumPy version would write it."""
    m1, b1, m2, b2 = (params[k].copy() for k in ("m1", "b1", "m2", "b2"))
    for _ in range(steps):
        h1 = 1 / (1 + np.exp(-(x @ m1 + b1)))
        y_out = 1 / (1 + np.exp(-(h1 @ m2 + b2)))
        d_out = -2 * (y - y_out) * y_out * (1 - y_out)
        d_hidden = (d_out @ m2.T) * h1 * (1 - h1)
        m2 = m2 - rate * h1.T @ d_out
        b2 = b2 - rate * d_out.sum(axis=0)
        m1 = m1 - rate * x.T @ d_hidden
        b1 = b1 - rate * d_hidden.sum(axis=0)
    return {"m1": m1, "b1": b1, "m2": m2, "b2": b2}


def modes(cfg: TrainConfig) -> dict[str, Callable[[dict, np.ndarray, np.ndarray], object]]:
    """Every mode's job, each importing its implementation when it first runs."""
    impl = load_implementation
    sessions: list = []

    def tf1_session_loop(p, x, y):
        # the first call builds the graph and opens the Session; later calls reuse both
        if not sessions:
            sessions.append(impl("tf1").SessionTrainer(cfg))
        return sessions[0].run(p, x, y)

    return {
        TF1_LOOP: tf1_session_loop,
        "TF1 graph built per call (tf1_reference)": lambda p, x, y: impl("tf1").train(p, x, y, cfg),
        "TF2 eager GradientTape": lambda p, x, y: impl("tf").train(p, x, y, cfg, mode="eager"),
        "TF2 tf.function per step": lambda p, x, y: impl("tf").train(p, x, y, cfg, mode="step"),
        TF2_DEFAULT: lambda p, x, y: impl("tf").train(p, x, y, cfg),
        KERAS_EPOCHS: lambda p, x, y: impl("keras").train(p, x, y, cfg, mode="epoch_per_step"),
        KERAS_DEFAULT: lambda p, x, y: impl("keras").train(p, x, y, cfg),
        "Keras train_on_batch": lambda p, x, y: impl("keras").train(
            p, x, y, cfg, mode="train_on_batch"
        ),
        MANUAL: lambda p, x, y: impl("manual").train(p, x, y, cfg),
        BASELINE: lambda p, x, y: numpy_baseline(p, x, y, cfg.steps, cfg.learning_rate),
    }


def time_modes(
    cfg: TrainConfig,
    repeats: int,
    names: tuple[str, ...] | None = None,
    progress: Progress = silent,
) -> list[dict]:
    """The modes ``names`` (every one by default), each as its first call and the median of
    ``repeats`` warm calls, and its time as a multiple of the TF1 Session loop's when that ran."""
    x, y = xor_data()
    params = init_params(cfg)
    rows = []
    for name, run in modes(cfg).items():
        if names is not None and name not in names:
            continue
        first, median = first_and_median(lambda run=run: run(params, x, y), repeats)
        rows.append({"mode": name, "first_s": first, "median_s": median})
        progress(f"  {name}: {median * 1e3:.1f} ms")
    tf1 = next((row["median_s"] for row in rows if row["mode"] == TF1_LOOP), None)
    for row in rows:
        row["us_per_step"] = row["median_s"] / cfg.steps * 1e6
        row["ratio_to_tf1"] = None if tf1 is None else row["median_s"] / tf1
    return rows


def backend_rows(
    steps: int, repeats: int, backends: list[str], progress: Progress = silent
) -> list[dict]:
    """Keras's modes on other backends, each timed in a process of its own against the TF1
    Session loop timed in that same process (``backprop_suite.bench.backends``)."""
    from keras_impl.backends import child_environment

    rows = []
    for backend in backends:
        command = [
            sys.executable,
            "-m",
            "backprop_suite.children.backend_bench",
            str(steps),
            str(repeats),
        ]
        env = child_environment(backend, "float32")
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"timing Keras on {backend} failed:\n{done.stderr.strip()}")
        for row in json.loads(done.stdout.strip().splitlines()[-1]):
            row["us_per_step"] = row["median_s"] / steps * 1e6
            rows.append(row)
            progress(f"  {row['mode']}: {row['median_s'] * 1e3:.1f} ms")
    return rows


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_modes(rows: list[dict], cfg: TrainConfig, repeats: int) -> None:
    print(f"{cfg.steps} steps of the seed's 2-3-1 XOR job, median of {repeats} warm runs")
    print(f"{'mode':<52}{'first call ms':>14}{'median ms':>11}{'us/step':>10}{'x TF1':>8}")
    for row in rows:
        print(
            f"{row['mode']:<52}{row['first_s'] * 1e3:>14.1f}{row['median_s'] * 1e3:>11.1f}"
            f"{row['us_per_step']:>10.1f}{ratio(row['ratio_to_tf1']):>8}"
        )


def end_to_end(repeats: int) -> dict:
    """``backprop-compare`` and ``python -c 'import tensorflow'`` as fresh processes."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
    compare = [sys.executable, "-m", "backprop_suite.cli.compare"]
    importing = [sys.executable, "-c", "import tensorflow"]
    run = lambda command: subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: E731
    return {
        "compare_s": statistics.median(timed(lambda: run(compare)) for _ in range(repeats)),
        "import_s": statistics.median(timed(lambda: run(importing)) for _ in range(repeats)),
    }


def targets(rows: list[dict], e2e: dict | None) -> list[dict]:
    """The speed targets docs/performance.md states, as ratios taken in this one run."""
    median = {row["mode"]: row["median_s"] for row in rows}
    checks = [
        (
            "tf_impl.train >= 10x faster than the TF1 Session loop",
            median[TF1_LOOP] / median[TF2_DEFAULT],
            ">=",
            10.0,
        ),
        (
            "keras_impl.train >= 50x faster than fit(epochs=steps)",
            median[KERAS_EPOCHS] / median[KERAS_DEFAULT],
            ">=",
            50.0,
        ),
        (
            "manual_impl.train <= 0.5x the NumPy baseline",
            median[MANUAL] / median[BASELINE],
            "<=",
            0.5,
        ),
    ]
    if e2e is not None:
        checks.append(
            (
                "backprop-compare end to end <= import tensorflow + 2 s (seconds over import)",
                e2e["compare_s"] - e2e["import_s"],
                "<=",
                2.0,
            )
        )
    return [
        {
            "target": name,
            "measured": value,
            "bound": bound,
            "met": value >= bound if sense == ">=" else value <= bound,
        }
        for name, value, sense, bound in checks
    ]
