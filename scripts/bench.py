"""Time the seed's 500-step XOR job in every execution mode, in one process.

    python scripts/bench.py                 # the full table (about two minutes)
    python scripts/bench.py --quick         # few steps and repeats: proves the script works
    python scripts/bench.py --json out.json

Each mode runs once cold (its first call: tracing, graph building, model compiling), then
``--repeats`` times warm; the table shows the first call and the median of the warm runs, per
job and per step, and each mode's time as a multiple of the TF1 Session loop's (the seed
program's ``sess.run(train)`` loop, its graph and Session built on the first call).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from common import TrainConfig, init_params, xor_data  # noqa: E402


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
    import keras_impl
    import manual_impl
    import tf_impl
    from tf_impl import tf1_reference

    sessions: list = []

    def tf1_session_loop(p, x, y):
        # the first call builds the graph and opens the Session; later calls reuse both
        if not sessions:
            sessions.append(tf1_reference.SessionTrainer(cfg))
        return sessions[0].run(p, x, y)

    return {
        "TF1 Session loop (seed program)": tf1_session_loop,
        "TF1 graph built per call (tf1_reference)": lambda p, x, y: tf1_reference.train(
            p, x, y, cfg
        ),
        "TF2 eager GradientTape": lambda p, x, y: tf_impl.train(p, x, y, cfg, mode="eager"),
        "TF2 tf.function per step": lambda p, x, y: tf_impl.train(p, x, y, cfg, mode="step"),
        "TF2 compiled loop (tf_impl default)": lambda p, x, y: tf_impl.train(p, x, y, cfg),
        "Keras fit(epochs=steps)": lambda p, x, y: keras_impl.train(
            p, x, y, cfg, mode="epoch_per_step"
        ),
        "Keras one epoch (keras_impl default)": lambda p, x, y: keras_impl.train(p, x, y, cfg),
        "Keras train_on_batch": lambda p, x, y: keras_impl.train(
            p, x, y, cfg, mode="train_on_batch"
        ),
        "manual_impl": lambda p, x, y: manual_impl.train(p, x, y, cfg),
        "NumPy baseline (in this script)": lambda p, x, y: numpy_baseline(
            p, x, y, cfg.steps, cfg.learning_rate
        ),
    }


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 steps, 2 repeats")
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per mode (5)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        print("error: --repeats must be at least 1", file=sys.stderr)
        return 2
    cfg = TrainConfig(steps=20) if args.quick else TrainConfig()
    repeats = 2 if args.quick else args.repeats

    start = time.perf_counter()
    import tensorflow as tf  # noqa: F401

    import_seconds = time.perf_counter() - start
    x, y = xor_data()
    params = init_params(cfg)
    rows = []
    for name, run in modes(cfg).items():
        first = timed(lambda run=run: run(params, x, y))
        warm = [timed(lambda run=run: run(params, x, y)) for _ in range(repeats)]
        rows.append({"mode": name, "first_s": first, "median_s": statistics.median(warm)})
        print(f"  {name}: {rows[-1]['median_s'] * 1e3:.1f} ms", file=sys.stderr)
    reference = rows[0]["median_s"]
    print(f"{cfg.steps} steps of the seed's 2-3-1 XOR job, median of {repeats} warm runs")
    print(f"{'mode':<38}{'first call ms':>14}{'median ms':>11}{'us/step':>10}{'x TF1':>8}")
    for row in rows:
        row["us_per_step"] = row["median_s"] / cfg.steps * 1e6
        row["ratio_to_tf1"] = row["median_s"] / reference
        print(
            f"{row['mode']:<38}{row['first_s'] * 1e3:>14.1f}{row['median_s'] * 1e3:>11.1f}"
            f"{row['us_per_step']:>10.1f}{row['ratio_to_tf1']:>8.3f}"
        )
    print(f"import tensorflow: {import_seconds:.2f} s")
    if args.json:
        report = {
            "steps": cfg.steps,
            "repeats": repeats,
            "import_tensorflow_s": import_seconds,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "modes": rows,
        }
        with open(args.json, "w") as file:
            json.dump(report, file, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
