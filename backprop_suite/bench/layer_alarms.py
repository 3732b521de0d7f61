"""The migration check's layer localisation measured: how often it flags a layer of a correct
port (over seeds of TF1's weights), whether it names the layer of each seeded one-layer fault
(``tests/fixtures/layer_faults``, plain and with ``--isolate``), and what it adds to the time of a
failing check (``--cost``: the gallery's and the tutorial-style fixtures' wrong ports, each
checked with the localisation off and on, alternating, medians of ``--repeats``).

    python -m backprop_suite.bench.layer_alarms [--seeds 100] [--programs conv_net,lstm,...]
    python -m backprop_suite.bench.layer_alarms --faults
    python -m backprop_suite.bench.layer_alarms --cost [--repeats 3]

Run from the checkout: the fixtures are the tests'."""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "examples" / "migrations"
FIXTURES = ROOT / "tests" / "fixtures"
PROGRAMS = ("conv_net", "lstm", "autoencoder_rmsprop")
# wrong port -> its TF1 program, for --cost: the gallery's and the tutorial-style fixtures'
COSTED = {
    "wrong_ports/conv_net_keep_prob_as_rate.py": "examples/migrations/conv_net/tf1.py",
    "wrong_ports/lstm_gates_not_reordered.py": "examples/migrations/lstm/tf1.py",
    "wrong_ports/mlp_transposed_weight.py": "examples/migrations/mlp_adam/tf1.py",
    "wrong_ports/seed_xor_mse.py": "examples/migrations/seed_xor/tf1.py",
    "wrong_ports/mlp_keras_adam_defaults.py": "examples/migrations/mlp_adam/tf1.py",
    "tutorial_style/lenet/l2_left_out.py": "tests/fixtures/tutorial_style/lenet/tf1.py",
    "tutorial_style/lenet/keras_sgd_momentum.py": "tests/fixtures/tutorial_style/lenet/tf1.py",
    "tutorial_style/tied_autoencoder/keras_mse.py": (
        "tests/fixtures/tutorial_style/tied_autoencoder/tf1.py"
    ),
}


def flagged_rows(report) -> list[str]:
    layers = report.layers
    if isinstance(layers, str) or layers is None:
        raise RuntimeError(f"no localisation: {layers}")
    return [row.name for row in layers.rows if row.verdict not in ("agrees",)]


def largest(report) -> float:
    values = [
        value
        for row in report.layers.rows
        for value in (row.forward, row.backward, row.isolated_forward, row.isolated_backward)
        if value is not None
    ]
    return max(values, default=0.0)


def alarms(programs: list[str], seeds: int, steps: int) -> dict:
    from backprop_suite.migration import Options, check_port, run_tf1

    found = {}
    for program in programs:
        flags, furthest, agreed, took = [], 0.0, 0, []
        for seed in range(seeds):
            start = time.perf_counter()
            record = run_tf1(str(GALLERY / program / "tf1.py"), steps, seed=seed)
            options = Options(steps=steps, seed=seed, layers="always", isolate=True)
            report = check_port(record, str(GALLERY / program / "keras3.py"), options)
            took.append(time.perf_counter() - start)
            agreed += report.agrees
            rows = flagged_rows(report)
            if rows:
                flags.append({"seed": seed, "rows": rows, "text": report.layers.table()})
            furthest = max(furthest, largest(report))
        found[program] = {
            "seeds": seeds,
            "checks_agreeing": agreed,
            "layers_flagged": flags,
            "largest_distance_in_envelopes": furthest,
            "median_seconds": statistics.median(took),
        }
        print(
            f"{program}: {seeds} seeds, {len(flags)} with a layer flagged, largest distance "
            f"{furthest:.3g} envelopes, checks agreeing {agreed}",
            flush=True,
        )
    return found


def load_faults() -> tuple[list[dict], list[dict]]:
    spec = importlib.util.spec_from_file_location(
        "layer_faults", FIXTURES / "layer_faults" / "faults.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FAULTS, getattr(module, "CORRECT", [])


def named_by_check(entry: dict, steps: int):
    """The check of one fixture's port with ``--isolate``, ``layers`` always."""
    from backprop_suite.migration import Options, check_migration
    from backprop_suite.migration.tf1.old_program import old_program

    old = old_program(str(ROOT / entry["tf1"]), outputs=entry.get("outputs"))
    options = Options(steps=steps, layers="always", isolate=True)
    return check_migration(old, str(FIXTURES / entry["port"]), options)


def faults(steps: int) -> dict:
    seeded, correct = load_faults()
    results = []
    for entry in seeded + correct:
        report = named_by_check(entry, steps)
        layers = report.layers
        plain = getattr(layers, "first", None)
        alone = getattr(layers, "first_alone", None)
        expected = entry["layer"]
        right = plain == expected and alone == expected
        if entry in correct:
            right = report.agrees and not flagged_rows(report)
        elif expected is None:  # a mistake that is no layer's
            right = right and layers.summary.startswith("no layer's")
        results.append(
            {
                "port": entry["port"],
                "fault": entry.get("fault"),
                "expected": expected,
                "named": plain,
                "named_alone": alone,
                "stage": getattr(report.failed, "stage", None),
                "right": right,
            }
        )
        print(
            f"{'ok ' if right else 'NO '} {entry['port']}: expected {expected}, named {plain}, "
            f"alone {alone}",
            flush=True,
        )
    return {"faults": results, "right": sum(r["right"] for r in results), "of": len(results)}


def cost(repeats: int, steps: int) -> dict:
    from backprop_suite.migration import Options, check_migration

    found = {}
    for port, tf1 in COSTED.items():
        times = {"off": [], "failing": []}
        for _ in range(repeats):
            for mode in times:
                start = time.perf_counter()
                report = check_migration(
                    str(ROOT / tf1), str(FIXTURES / port), Options(steps=steps, layers=mode)
                )
                times[mode].append(time.perf_counter() - start)
                assert not report.agrees, port
        off, on = statistics.median(times["off"]), statistics.median(times["failing"])
        found[port] = {"off_s": off, "localised_s": on, "ratio": on / off}
        print(f"{port}: {off:.1f} s without, {on:.1f} s with the layers: x{on / off:.2f}")
    ratios = [entry["ratio"] for entry in found.values()]
    print(f"median ratio x{statistics.median(ratios):.2f}, largest x{max(ratios):.2f}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--cost", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if args.faults:
        found = faults(max(args.steps, 3))
    elif args.cost:
        found = cost(args.repeats, 10)
    else:
        found = alarms(args.programs.split(","), args.seeds, args.steps)
    if args.json:
        Path(args.json).write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
