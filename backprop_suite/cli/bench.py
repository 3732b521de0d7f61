"""Time the seed's 500-step XOR job in every execution mode, in one process, and how each
implementation's default path scales with the hidden width and the number of samples.

    python scripts/bench.py                          # everything (about six minutes)
    python scripts/bench.py --quick                  # few steps, repeats and sizes: proves it runs
    python scripts/bench.py --json out.json --plot scaling.png
    python scripts/bench.py --verbose                # progress on stderr as each mode finishes
    python scripts/bench.py --no-scaling             # the modes, data-parallel rows and sweep
    python scripts/bench.py --sweep-profile          # also train_many's step cost for K nets

Each mode runs once cold (its first call: tracing, graph building, model compiling), then
``--repeats`` times warm; the table shows the first call and the median of the warm runs, per
job and per step, and each mode's time as a multiple of the TF1 Session loop's (the seed
program's ``sess.run(train)`` loop, its graph and Session built on the first call).
Exit status: 0; 2 for bad input (one ``error: …`` line, before any timing); 3 when ``--json`` or
``--plot`` could not be written after the work (the figures are then printed as JSON on stdout).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from backprop_suite.bench.many_nets import (
    NETS,
    batched_matmul_us,
    batched_matmuls_per_step,
    print_costs,
    print_matmul,
    step_costs,
)
from backprop_suite.bench.timing import first_and_median, timed
from backprop_suite.cli.script import BAD_INPUT, ArgumentParser, checked, run_script
from backprop_suite.core import TrainConfig, init_params, noisy_xor, xor_data
from backprop_suite.core.memory import require_fits
from backprop_suite.core.outputs import Writes, check_output_file, write_text
from backprop_suite.verify.registry import IMPLEMENTATIONS, load_implementation, require_backend

TF1_LOOP = "TF1 Session loop (seed program)"
TF2_DEFAULT = "TF2 compiled loop (tf_impl default)"
KERAS_EPOCHS = "Keras fit(epochs=steps)"
KERAS_DEFAULT = "Keras one epoch (keras_impl default)"
MANUAL = "manual_impl (default)"
BASELINE = "NumPy baseline (in this script)"


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
    from backprop_suite.reference import tf1 as tf1_reference

    sessions: list = []

    def tf1_session_loop(p, x, y):
        # the first call builds the graph and opens the Session; later calls reuse both
        if not sessions:
            sessions.append(tf1_reference.SessionTrainer(cfg))
        return sessions[0].run(p, x, y)

    return {
        TF1_LOOP: tf1_session_loop,
        "TF1 graph built per call (tf1_reference)": lambda p, x, y: tf1_reference.train(
            p, x, y, cfg
        ),
        "TF2 eager GradientTape": lambda p, x, y: tf_impl.train(p, x, y, cfg, mode="eager"),
        "TF2 tf.function per step": lambda p, x, y: tf_impl.train(p, x, y, cfg, mode="step"),
        TF2_DEFAULT: lambda p, x, y: tf_impl.train(p, x, y, cfg),
        KERAS_EPOCHS: lambda p, x, y: keras_impl.train(p, x, y, cfg, mode="epoch_per_step"),
        KERAS_DEFAULT: lambda p, x, y: keras_impl.train(p, x, y, cfg),
        "Keras train_on_batch": lambda p, x, y: keras_impl.train(
            p, x, y, cfg, mode="train_on_batch"
        ),
        MANUAL: lambda p, x, y: manual_impl.train(p, x, y, cfg),
        BASELINE: lambda p, x, y: numpy_baseline(p, x, y, cfg.steps, cfg.learning_rate),
    }


def silent(message: str) -> None:
    pass


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def time_modes(cfg: TrainConfig, repeats: int, progress=silent) -> list[dict]:
    x, y = xor_data()
    params = init_params(cfg)
    rows = []
    for name, run in modes(cfg).items():
        first, median = first_and_median(lambda run=run: run(params, x, y), repeats)
        rows.append({"mode": name, "first_s": first, "median_s": median})
        progress(f"  {name}: {median * 1e3:.1f} ms")
    for row in rows:
        row["us_per_step"] = row["median_s"] / cfg.steps * 1e6
        row["ratio_to_tf1"] = row["median_s"] / rows[0]["median_s"]
    return rows


def backend_rows(steps: int, repeats: int, backends: list[str], progress=silent) -> list[dict]:
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


def print_modes(rows: list[dict], cfg: TrainConfig, repeats: int) -> None:
    print(f"{cfg.steps} steps of the seed's 2-3-1 XOR job, median of {repeats} warm runs")
    print(f"{'mode':<52}{'first call ms':>14}{'median ms':>11}{'us/step':>10}{'x TF1':>8}")
    for row in rows:
        print(
            f"{row['mode']:<52}{row['first_s'] * 1e3:>14.1f}{row['median_s'] * 1e3:>11.1f}"
            f"{row['us_per_step']:>10.1f}{row['ratio_to_tf1']:>8.3f}"
        )


def end_to_end(repeats: int) -> dict:
    """``python scripts/compare.py`` and ``python -c 'import tensorflow'`` as fresh processes."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
    compare = [sys.executable, str(Path(__file__).with_name("compare.py"))]
    importing = [sys.executable, "-c", "import tensorflow"]
    run = lambda command: subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: E731
    return {
        "compare_s": statistics.median(timed(lambda: run(compare)) for _ in range(repeats)),
        "import_s": statistics.median(timed(lambda: run(importing)) for _ in range(repeats)),
    }


def targets(rows: list[dict], e2e: dict | None) -> list[dict]:
    """The speed targets the README states, as ratios taken in this one run."""
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
                "compare.py end to end <= import tensorflow + 2 s (seconds over import)",
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


WIDTHS = (3, 16, 64, 256, 1024)
SAMPLES = (4, 100, 1_000, 10_000, 100_000)


def scaling(
    steps: int, repeats: int, widths=WIDTHS, samples=SAMPLES, progress=silent
) -> list[dict]:
    """Each implementation's default ``train``, as the hidden width and the sample count grow."""
    impls = {name: load_implementation(name) for name in IMPLEMENTATIONS}
    rows = []
    cases = [("width", w, (2, w, 1), xor_data()) for w in widths]
    cases += [("samples", n, (2, 3, 1), noisy_xor(n, 0.1, seed=0)) for n in samples]
    for axis, size, layers, (x, y) in cases:
        cfg = TrainConfig(layers=layers, steps=steps)
        params = init_params(cfg)
        for name, impl in impls.items():
            job = lambda impl=impl, p=params, x=x, y=y, c=cfg: impl.train(p, x, y, c)  # noqa: E731
            _, median = first_and_median(job, repeats)
            rows.append({"axis": axis, "size": size, "impl": name, "median_s": median})
            progress(f"  {axis} {size} {name}: {median * 1e3:.1f} ms")
    return rows


REPLICAS = (1, 2, 4)
REPLICA_ROWS = 100_000
REPLICA_STEPS = 100


def replica_rows(
    repeats: int, rows: int = REPLICA_ROWS, steps: int = REPLICA_STEPS, progress=silent
) -> list[dict]:
    """tf and keras data-parallel on 1, 2 and 4 replicas (logical CPUs of this one CPU), on
    noisy_xor; each time as a ratio to its own one-replica (one-device) run. On one CPU the
    replicas share the same cores: this measures the cost of splitting the batch, summing the
    gradients and updating every copy, not a speed-up."""
    import tensorflow as tf

    import keras_impl
    import tf_impl

    x, y = noisy_xor(rows, 0.1, seed=0)
    cfg = TrainConfig(steps=steps)
    params = init_params(cfg)
    timings = []
    # each replica count is a new Keras model whose first call traces its train function (timed
    # as the first call); TensorFlow warns about "retracing" once this process has traced Keras
    # train functions more than five times, which here is expected and not a fault
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        for name, impl in (("tf", tf_impl), ("keras", keras_impl)):
            timings += replica_timings(name, impl, params, x, y, cfg, repeats, progress)
    finally:
        logger.setLevel(level)
    return timings


def replica_timings(name, impl, params, x, y, cfg, repeats, progress) -> list[dict]:
    """One implementation on each replica count, as a ratio to its one-replica run."""
    own = []
    for replicas in REPLICAS:
        spread = replace(cfg, replicas=replicas)
        job = lambda c=spread: impl.train(params, x, y, c)  # noqa: E731
        first, median = first_and_median(job, repeats)
        own.append(
            {"impl": name, "replicas": replicas, "rows": len(x), "steps": cfg.steps}
            | {"first_s": first, "median_s": median}
        )
        progress(f"  {name} on {replicas} replicas: {median * 1e3:.0f} ms")
    for row in own:
        row["ratio_to_one"] = row["median_s"] / own[0]["median_s"]
    return own


def print_replicas(timings: list[dict]) -> None:
    rows, steps = timings[0]["rows"], timings[0]["steps"]
    print(
        f"\n{steps} steps of the 2-3-1 net on noisy_xor ({rows:,} rows, full batch), data-parallel "
        "on logical CPUs of one CPU (overhead, not speed-up), median ms and x one replica"
    )
    print(f"{'replicas':>8}" + "".join(f"{name:>20}" for name in ("tf", "keras")))
    for replicas in REPLICAS:
        cells = ""
        for name in ("tf", "keras"):
            row = next(r for r in timings if (r["impl"], r["replicas"]) == (name, replicas))
            cells += f"{row['median_s'] * 1e3:>12.0f} ({row['ratio_to_one']:.2f}x)"
        print(f"{replicas:>8}{cells}")


SWEEP_NETS = 10_000
SWEEP_TARGETS = {"fastest": 200.0, "manual": 400.0}  # ns per net-step


def sweep_rows(
    repeats: int, nets: int = SWEEP_NETS, steps: int = 500, progress=silent
) -> list[dict]:
    """Each ``train_many`` training ``nets`` seed nets at once (seeds 0 … nets-1), in ns per
    net-step, against the same implementation's ``train`` one net at a time; Keras and TF1,
    which have no ``train_many``, one net at a time only."""
    import manual_impl
    import tf_impl
    from backprop_suite.core.many import init_stack
    from manual_impl.many import train_many as numpy_many
    from tf_impl.many import train_many as tf_many

    cfg = TrainConfig(steps=steps)
    x, y = xor_data()
    stack = init_stack(cfg, range(nets))
    params = init_params(cfg)
    timings = []
    for name, many, one in (
        ("manual", numpy_many, manual_impl.train),
        ("tf", tf_many, tf_impl.train),
    ):
        _, median = first_and_median(lambda many=many: many(stack, x, y, cfg), repeats)
        _, single = first_and_median(lambda one=one: one(params, x, y, cfg), repeats)
        row = {"impl": name, "nets": nets, "steps": steps, "median_s": median}
        row["ns_per_net_step"] = median / (nets * steps) * 1e9
        row["one_at_a_time_ns_per_net_step"] = single / steps * 1e9
        timings.append(row)
        progress(f"  {name} train_many: {row['ns_per_net_step']:.0f} ns per net-step")
    for name in ("keras", "tf1"):
        one = load_implementation(name).train
        _, single = first_and_median(lambda one=one: one(params, x, y, cfg), repeats)
        row = {"impl": name, "nets": nets, "steps": steps, "median_s": None}
        row["ns_per_net_step"] = None
        row["one_at_a_time_ns_per_net_step"] = single / steps * 1e9
        timings.append(row)
    return timings


def sweep_checks(timings: list[dict]) -> list[dict]:
    """The sweep's two targets, in ns per net-step."""
    fastest = min(row["ns_per_net_step"] for row in timings if row["ns_per_net_step"])
    manual = next(row["ns_per_net_step"] for row in timings if row["impl"] == "manual")
    return [
        {
            "target": "fastest train_many <= 200 ns per net-step",
            "measured": fastest,
            "bound": SWEEP_TARGETS["fastest"],
            "met": fastest <= SWEEP_TARGETS["fastest"],
        },
        {
            "target": "manual_impl train_many <= 400 ns per net-step",
            "measured": manual,
            "bound": SWEEP_TARGETS["manual"],
            "met": manual <= SWEEP_TARGETS["manual"],
        },
    ]


def print_sweep(timings: list[dict], quick: bool) -> None:
    nets, steps = timings[0]["nets"], timings[0]["steps"]
    print(f"\n{nets:,} seed nets x {steps} steps at once (train_many), ns per net-step")
    print(f"{'impl':<8}{'train_many':>12}{'one at a time':>15}{'x faster':>10}")
    for row in timings:
        one = row["one_at_a_time_ns_per_net_step"]
        many = row["ns_per_net_step"]
        if many is None:
            print(f"{row['impl']:<8}{'-':>12}{one:>15.0f}{'-':>10}")
            continue
        print(f"{row['impl']:<8}{many:>12.0f}{one:>15.0f}{one / many:>10.1f}")
    if quick:
        print("targets: not judged with --quick (they are set for 10,000 nets x 500 steps)")
        return
    for check in sweep_checks(timings):
        verdict = "met" if check["met"] else "NOT MET"
        print(f"  {check['target']}: {check['measured']:.0f} ({verdict})")


def print_scaling(rows: list[dict], steps: int) -> None:
    names = list(dict.fromkeys(row["impl"] for row in rows))
    for axis, label in (("width", "hidden width (2-W-1, XOR)"), ("samples", "samples (2-3-1)")):
        print(f"\n{steps} steps, ms per job, by {label}; fastest marked *")
        print(f"{'size':>8}" + "".join(f"{name:>11}" for name in names))
        for size in dict.fromkeys(row["size"] for row in rows if row["axis"] == axis):
            times = {
                r["impl"]: r["median_s"] for r in rows if (r["axis"], r["size"]) == (axis, size)
            }
            best = min(times, key=times.get)
            cells = "".join(f"{times[n] * 1e3:>10.1f}{'*' if n == best else ' '}" for n in names)
            print(f"{size:>8}{cells}")


def plot_scaling(rows: list[dict], steps: int, path: str) -> None:
    import matplotlib.pyplot as plt

    from backprop_suite.figures.comparison import save_png  # it selects matplotlib's Agg backend

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (axis, label) in zip(
        axes,
        (
            ("width", "hidden width W (2-W-1 net, 4 XOR rows)"),
            ("samples", "samples (2-3-1 net, noisy_xor)"),
        ),
    ):
        for name in dict.fromkeys(row["impl"] for row in rows):
            points = [
                (r["size"], r["median_s"]) for r in rows if (r["axis"], r["impl"]) == (axis, name)
            ]
            ax.plot(*zip(*points), marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(f"seconds for {steps} steps (median)")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle("Cost of each implementation's default train() as the problem grows")
    fig.tight_layout()
    save_png(fig, path)


def check_args(args) -> list[str]:
    """The Keras backends to time; ValueError for bad options or output paths."""
    if args.repeats < 1:
        raise ValueError("--repeats must be at least 1")
    # statistics.median keeps every time as a float in a list
    require_fits(f"--repeats {args.repeats} (one time kept per repeat)", args.repeats * 32)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    for name in backends:
        require_backend(name)
    if args.json is not None:
        check_output_file(args.json, "--json")
    if args.plot is not None:
        check_output_file(args.plot, "--plot")
        import matplotlib  # noqa: F401  checked before the timing starts
    return backends


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 steps, 2 repeats, small sizes")
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per mode (5)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling tables")
    parser.add_argument(
        "--no-replicas", action="store_true", help="skip the data-parallel rows (1, 2, 4 replicas)"
    )
    parser.add_argument(
        "--no-sweep", action="store_true", help="skip train_many on 10,000 nets at once"
    )
    parser.add_argument(
        "--sweep-profile",
        action="store_true",
        help="also time train_many per step for 1 to 100,000 nets: what bounds it",
    )
    parser.add_argument(
        "--backends",
        default="",
        help="also time Keras on these backends (jax,torch), each in a process of its own, its "
        "ratio taken to the TF1 loop timed there",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--plot", metavar="PATH.png", help="draw the scaling figure there")
    args = parser.parse_args(argv)
    backends = checked(lambda: check_args(args))
    if backends is None:
        return BAD_INPUT
    cfg = TrainConfig(steps=20) if args.quick else TrainConfig()
    repeats = 2 if args.quick else args.repeats

    start = time.perf_counter()
    import tensorflow as tf  # noqa: F401

    import_seconds = time.perf_counter() - start
    if not args.no_replicas:
        from backprop_suite.distribute.devices import split_cpu

        split_cpu(max(REPLICAS))  # before TensorFlow starts; no single-device number changes
    progress = to_stderr if args.verbose else silent
    rows = time_modes(cfg, repeats, progress)
    rows += backend_rows(cfg.steps, repeats, backends, progress)
    e2e = None if args.quick else end_to_end(3)
    checks = [] if args.quick else targets(rows, e2e)
    scaled = []
    if not args.no_scaling:
        if args.quick:
            scaled = scaling(cfg.steps, 1, widths=(3, 16), samples=(4, 100), progress=progress)
        else:
            scaled = scaling(cfg.steps, 3, progress=progress)

    spread = []
    if not args.no_replicas:
        if args.quick:
            spread = replica_rows(1, rows=1_000, steps=cfg.steps, progress=progress)
        else:
            spread = replica_rows(3, progress=progress)

    swept = []
    if not args.no_sweep:
        if args.quick:
            swept = sweep_rows(1, nets=200, steps=cfg.steps, progress=progress)
        else:
            swept = sweep_rows(3, progress=progress)

    costs = []
    if args.sweep_profile:
        from manual_impl.many import train_many as numpy_many
        from tf_impl.many import train_many as tf_many

        engines = {"manual": numpy_many, "tf": tf_many}
        costs = step_costs(engines, nets=(1, 100) if args.quick else NETS, progress=progress)
        matmuls = (
            batched_matmuls_per_step(cfg),
            batched_matmul_us(steps=20 if args.quick else 200),
        )

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {date.today()}")
    print_modes(rows, cfg, repeats)
    if backends:
        print(
            "(Keras on other backends: each ratio is to the TF1 loop timed in that one's process)"
        )
    print(f"import tensorflow in this process: {import_seconds:.2f} s")
    if e2e is not None:
        print(
            f"fresh processes, median of 3: python scripts/compare.py {e2e['compare_s']:.2f} s, "
            f"python -c 'import tensorflow' {e2e['import_s']:.2f} s"
        )
    if args.quick:
        print("\ntargets: not judged with --quick (they are set for 500 steps)")
    else:
        print("\ntargets (ratios from this run):")
    for check in checks:
        verdict = "met" if check["met"] else "NOT MET"
        print(f"  {check['target']}: {check['measured']:.2f} ({verdict})")
    if scaled:
        print_scaling(scaled, cfg.steps)
    if spread:
        print_replicas(spread)
    if swept:
        print_sweep(swept, args.quick)
    if costs:
        print_costs(costs)
        print_matmul(*matmuls, costs)
    report = {
        "date": str(date.today()),
        "steps": cfg.steps,
        "repeats": repeats,
        "import_tensorflow_s": import_seconds,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "modes": rows,
        "end_to_end": e2e,
        "targets": checks,
        "scaling": scaled,
        "replicas": spread,
        "sweep": swept,
        "sweep_targets": sweep_checks(swept) if swept and not args.quick else [],
        "sweep_profile": costs,
        "batched_matmul": dict(zip(("per_step", "us_for_10000_nets"), matmuls)) if costs else None,
    }
    text = json.dumps(report, indent=1)
    writes = Writes()
    if args.plot is not None and scaled:
        writes.attempt("--plot", args.plot, lambda: plot_scaling(scaled, cfg.steps, args.plot))
    if args.json is not None:
        writes.attempt("--json", args.json, lambda: write_text(args.json, text + "\n"))
    failed = writes.finish(lambda: text)
    return 0 if failed is None else failed


def run() -> None:
    """The ``backprop-bench`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run_script(main)
