"""Time the seed's 500-step XOR job in every execution mode, in one process, and how each
implementation's default path scales with the hidden width and the number of samples.

    backprop-bench                          # everything (about six minutes)
    backprop-bench --quick                  # few steps, repeats and sizes: proves it runs
    backprop-bench --json out.json --plot scaling.png
    backprop-bench --verbose                # progress on stderr as each mode finishes
    backprop-bench --no-scaling             # the modes, data-parallel rows and sweep
    backprop-bench --sweep-profile          # also train_many's step cost for K nets

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
import sys
import time
from dataclasses import replace
from datetime import date

from backprop_suite.bench import modes, plan, replicas, scaling, sweep
from backprop_suite.bench.many_nets import (
    batched_matmul_us,
    batched_matmuls_per_step,
    print_costs,
    print_matmul,
    step_costs,
)
from backprop_suite.bench.timing import silent
from backprop_suite.cli.script import BAD_INPUT, ArgumentParser, checked, run_script
from backprop_suite.core import TrainConfig
from backprop_suite.core.memory import require_fits
from backprop_suite.core.outputs import Writes, check_output_file, write_text
from backprop_suite.verify.registry import require_backend


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


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


def main(argv: list[str] | None = None, chosen: plan.Plan | None = None) -> int:
    """The command line; ``chosen`` replaces the plan that ``--quick`` or ``--repeats`` set."""
    parser = ArgumentParser(description=__doc__)
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
    if chosen is None:
        chosen = plan.QUICK if args.quick else replace(plan.FULL, repeats=args.repeats)
    cfg = TrainConfig(steps=chosen.steps)
    timed_replicas = not args.no_replicas and chosen.replica_rows is not None

    start = time.perf_counter()
    import tensorflow as tf  # noqa: F401

    import_seconds = time.perf_counter() - start
    if timed_replicas:
        from backprop_suite.distribute.devices import split_cpu

        split_cpu(
            max(replicas.REPLICAS)
        )  # before TensorFlow starts; no single-device number changes
    progress = to_stderr if args.verbose else silent
    rows = modes.time_modes(cfg, chosen.repeats, chosen.modes, progress)
    rows += modes.backend_rows(cfg.steps, chosen.repeats, backends, progress)
    e2e = None if chosen.end_to_end_repeats is None else modes.end_to_end(chosen.end_to_end_repeats)
    checks = modes.targets(rows, e2e) if chosen.judged else []
    scaled = []
    if not args.no_scaling:
        scaled = scaling.scaling(
            cfg.steps,
            chosen.scaling_repeats,
            chosen.widths,
            chosen.samples,
            chosen.implementations,
            progress,
        )
    spread = []
    if timed_replicas:
        spread = replicas.replica_rows(
            chosen.replica_repeats, chosen.replica_rows, chosen.replica_steps, progress
        )
    swept = []
    if not args.no_sweep and chosen.sweep_nets is not None:
        swept = sweep.sweep_rows(
            chosen.sweep_repeats, chosen.sweep_nets, chosen.sweep_steps, progress
        )
    costs = []
    if args.sweep_profile:
        from manual_impl.many import train_many as numpy_many
        from tf_impl.many import train_many as tf_many

        engines = {"manual": numpy_many, "tf": tf_many}
        costs = step_costs(engines, nets=chosen.profile_nets, progress=progress)
        matmuls = (batched_matmuls_per_step(cfg), batched_matmul_us(steps=chosen.matmul_steps))

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {date.today()}")
    modes.print_modes(rows, cfg, chosen.repeats)
    if backends:
        print(
            "(Keras on other backends: each ratio is to the TF1 loop timed in that one's process)"
        )
    print(f"import tensorflow in this process: {import_seconds:.2f} s")
    if e2e is not None:
        print(
            f"fresh processes, median of {chosen.end_to_end_repeats}: backprop-compare "
            f"{e2e['compare_s']:.2f} s, python -c 'import tensorflow' {e2e['import_s']:.2f} s"
        )
    if chosen.judged:
        print("\ntargets (ratios from this run):")
    else:
        print(f"\ntargets: not judged with --quick (they are set for {plan.FULL.steps} steps)")
    for check in checks:
        verdict = "met" if check["met"] else "NOT MET"
        print(f"  {check['target']}: {check['measured']:.2f} ({verdict})")
    if scaled:
        scaling.print_scaling(scaled, cfg.steps)
    if spread:
        replicas.print_replicas(spread)
    if swept:
        sweep.print_sweep(swept, not chosen.judged)
    if costs:
        print_costs(costs)
        print_matmul(*matmuls, costs)
    report = {
        "date": str(date.today()),
        "steps": cfg.steps,
        "repeats": chosen.repeats,
        "import_tensorflow_s": import_seconds,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "modes": rows,
        "end_to_end": e2e,
        "targets": checks,
        "scaling": scaled,
        "replicas": spread,
        "sweep": swept,
        "sweep_targets": sweep.sweep_checks(swept) if swept and chosen.judged else [],
        "sweep_profile": costs,
        "batched_matmul": dict(zip(("per_step", "us_for_10000_nets"), matmuls)) if costs else None,
    }
    text = json.dumps(report, indent=1)
    writes = Writes()
    if args.plot is not None and scaled:
        from backprop_suite.figures.scaling import plot_scaling

        writes.attempt("--plot", args.plot, lambda: plot_scaling(scaled, cfg.steps, args.plot))
    if args.json is not None:
        writes.attempt("--json", args.json, lambda: write_text(args.json, text + "\n"))
    failed = writes.finish(lambda: text)
    return 0 if failed is None else failed


def run() -> None:
    """The ``backprop-bench`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
