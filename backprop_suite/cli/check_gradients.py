"""Measure how closely the gradients agree: NumPy by hand, GradientTape, Keras, and
central finite differences, on random float64 weights and data for several nets.

    backprop-check-gradients
    backprop-check-gradients --json gradients.json
    backprop-check-gradients MODEL.py [--fast] [--order 2] [--rtol R] [--atol A]
        [--seed S] [--backends tensorflow,jax,torch] [--json PATH|-]

Prints, per net, the largest absolute difference of each framework from the hand-written
gradients, and the largest relative error of each against finite differences. Exit status: 0,
2 for bad input (one ``error: …`` line), 3 when ``--json`` could not be written after the work
(the figures are then printed to stdout as JSON).

With MODEL.py (``model()``, ``data()`` and optionally ``loss()``: ``docs/gradcheck.md``) it
checks that model's gradients instead (``backprop_suite.gradcheck``): a line per variable, and
exit 1 with the variable, index and both values when a gradient is wrong.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from backprop_suite.cli.script import (
    ArgumentParser,
    ctrl_c_pressed,
    print_and_write,
    run_script,
)
from backprop_suite.core import ACTIVATIONS, LOSSES, TrainConfig, init_params
from backprop_suite.core.outputs import Writes, check_output_file, write_text
from backprop_suite.migration.programs import described, program_file
from backprop_suite.verify.finite_differences import central_differences, relative_error
from backprop_suite.verify.registry import IMPLEMENTATIONS, load_implementation

NETS = [(2, 3, 1), (2, 2, 2), (3, 5, 2), (2, 4, 3, 2)]


def measure(layers: tuple[int, ...], activation: str, loss: str, case: int, impls: dict) -> dict:
    """One net's gradients from every implementation, on random weights and data."""
    cfg = TrainConfig(layers=layers, activation=activation, loss=loss, dtype="float64")
    rng = np.random.default_rng(case)
    params = {k: v + rng.normal(0, 0.3, v.shape) for k, v in init_params(cfg, seed=case).items()}
    x = rng.normal(0, 1, (6, layers[0]))
    y = rng.uniform(0, 1, (6, layers[-1]))
    grads = {name: impl.loss_and_grads(params, x, y, cfg)[1] for name, impl in impls.items()}
    numeric = central_differences(lambda p: impls["manual"].loss_and_grads(p, x, y, cfg)[0], params)
    return {
        "layers": list(layers),
        "activation": activation,
        "loss": loss,
        "absolute_from_manual": {
            name: max(float(np.max(np.abs(grads[name][k] - grads["manual"][k]))) for k in params)
            for name in ("tf", "keras")
        },
        "relative_to_finite_differences": {
            name: max(relative_error(grads[name][k], numeric[k]) for k in params) for name in impls
        },
    }


def print_rows(rows: list[dict]) -> None:
    names = list(rows[0]["relative_to_finite_differences"])
    print(f"{'net':<10}{'activation':<12}{'loss':<18}{'tf-manual':>11}{'keras-manual':>14}", end="")
    print("".join(f"{name + ' vs fd':>15}" for name in names))
    for row in rows:
        line = f"{'-'.join(map(str, row['layers'])):<10}{row['activation']:<12}{row['loss']:<18}"
        line += f"{row['absolute_from_manual']['tf']:>11.1e}"
        line += f"{row['absolute_from_manual']['keras']:>14.1e}"
        print(line + "".join(f"{v:>15.1e}" for v in row["relative_to_finite_differences"].values()))
    worst_abs = max(v for row in rows for v in row["absolute_from_manual"].values())
    worst_rel = max(v for row in rows for v in row["relative_to_finite_differences"].values())
    print(f"largest: {worst_abs:.1e} between implementations, ", end="")
    print(f"{worst_rel:.1e} relative to finite differences")


def every_case() -> list[tuple[tuple[int, ...], str, str]]:
    """Every net of ``NETS`` with every activation and loss."""
    return [(net, a, loss) for net in NETS for a in ACTIVATIONS for loss in LOSSES]


def main(argv: list[str] | None = None, cases: list | None = None) -> int:
    """The command line; ``cases`` (net, activation, loss) replaces ``every_case()``."""
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("model", metavar="MODEL.py", nargs="?", help="a model file of yours")
    parser.add_argument("--json", metavar="PATH", help="write every net's figures as JSON there")
    parser.add_argument(
        "--fast",
        nargs="?",
        const="on",
        choices=("on", "auto"),
        help="MODEL.py: random projections first; auto: where a full check would take a minute",
    )
    parser.add_argument(
        "--training",
        action="store_true",
        default=None,
        help="MODEL.py: call the model in training mode (Dropout, BatchNorm, noise)",
    )
    parser.add_argument("--rtol", type=float, help="MODEL.py: relative bound (by dtype)")
    parser.add_argument("--atol", type=float, help="MODEL.py: absolute bound (by dtype)")
    parser.add_argument("--seed", type=int, help="MODEL.py: the projections' seed (0)")
    parser.add_argument(
        "--order", type=int, choices=(1, 2), help="MODEL.py: 2 adds a Hessian-vector product"
    )
    parser.add_argument(
        "--backends", metavar="B,B", help="MODEL.py: also on these Keras backends, in children"
    )
    args = parser.parse_args(argv)
    try:
        if args.json is not None and not (args.model is not None and args.json == "-"):
            check_output_file(args.json, "--json")
        model_options = ("fast", "training", "rtol", "atol", "seed", "order", "backends")
        if args.model is None:
            given = [f"--{name}" for name in model_options if getattr(args, name) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only with a MODEL.py to check")
        else:
            program_file(args.model)
            args.backends = backends_of(args.backends)
        for name in ("rtol", "atol"):
            value = getattr(args, name)
            if value is not None and not 0 <= value < float("inf"):
                raise ValueError(f"--{name} must be a number of at least 0, got {value!r}")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.model is not None:
        return check_model(args)

    impls = {name: load_implementation(name) for name in IMPLEMENTATIONS}
    cases = every_case() if cases is None else cases
    rows = [measure(*case, index, impls) for index, case in enumerate(cases)]
    print_rows(rows)
    text = json.dumps({"nets": rows}, indent=1)
    writes = Writes()
    if args.json is not None:
        writes.attempt("--json", args.json, lambda: write_text(args.json, text + "\n"))
    failed = writes.finish(lambda: text)
    return 0 if failed is None else failed


def check_model(args) -> int:
    """``MODEL.py``'s gradients: 0 within the bound, 1 a wrong gradient, 2 a bad file, or one
    whose code fails (``check_model_file``), ``KeyboardInterrupt`` raised by its code too."""
    from backprop_suite.gradcheck import GradientMismatch
    from backprop_suite.gradcheck.model_file import check_model_file

    fast = {None: False, "on": True, "auto": "auto"}[args.fast]
    options = {"fast": fast, "training": bool(args.training), "rtol": args.rtol, "atol": args.atol}
    options.update(seed=args.seed or 0, order=args.order or 1, backends=args.backends)
    try:
        report = check_model_file(args.model, **options)
    except GradientMismatch as mismatch:
        found = {"agrees": False, "mismatch": str(mismatch)}
        failed = print_and_write(args.json, f"DISAGREES: {mismatch}", json.dumps(found, indent=1))
        return 1 if failed is None else failed
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        if ctrl_c_pressed():
            raise
        raised = described(interrupt, args.model)
        print(f"error: {args.model}: its code raised {raised}, no Ctrl-C", file=sys.stderr)
        return 2
    found = {"agrees": True, "dtype": report.dtype, "seconds": report.seconds}
    found["training"] = options["training"]
    found["backends"] = report.backends
    found["variables"] = [
        {"name": v.name, "worst": v.worst, "index": list(v.index), "kinks": len(v.kinks)}
        for v in report.variables
    ]
    failed = print_and_write(args.json, report.text(), json.dumps(found, indent=1))
    return 0 if failed is None else failed


def backends_of(given: str | None) -> tuple[str, ...]:
    """``--backends``: comma-separated names among ``KNOWN``, each installed."""
    from backprop_suite.gradcheck.backends import missing

    if given is None:
        return ()
    names = tuple(name.strip() for name in given.split(",") if name.strip())
    if not names:
        raise ValueError("--backends names no backend")
    problem = missing(names)
    if problem:
        raise ValueError(f"--backends: {problem}")
    return names


def run() -> None:
    """The ``backprop-check-gradients`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
