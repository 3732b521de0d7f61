"""Train every implementation from one set of weights and print them side by side.

    backprop-compare                                   # the seed program, all four
    backprop-compare --layers 2,4,1 --lr 0.5 --steps 2000 --plot out/ --json out/r.json
    backprop-compare --weights w.npz --data d.npz --impl tf1,tf --dtype float64

Every option and output path is checked before any training. Exit status: 0 when all agree
within the tolerance for the dtype, 1 when they do not (the first step at which they parted is
named) or a run diverged to NaN or inf, 2 for bad input (one ``error: …`` line on stderr), 3
when the run finished but an output could not be written (an ``error:`` line for each, and the
results printed to stdout as JSON).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from backprop_suite.cli.script import (
    BAD_INPUT,
    ArgumentParser,
    checked,
    parse_optimizer_args,
    run_script,
)
from backprop_suite.core import (
    ACTIVATIONS,
    DTYPES,
    INITS,
    LOSSES,
    TrainConfig,
    check_data,
    init_params,
    load_npz,
    load_params,
    save_params,
    xor_data,
)
from backprop_suite.core.batching import require_schedule_fits
from backprop_suite.core.optimizers import OPTIMIZERS
from backprop_suite.core.outputs import Writes, check_output_file, check_output_folder, write_text
from backprop_suite.verify.comparison import Comparison, compare
from backprop_suite.verify.registry import (
    DATA_PARALLEL,
    IMPLEMENTATIONS,
    OTHER_BACKENDS,
    parse_names,
    require_backend,
)

SHOWN_ROWS = 8


def parse_layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(width) for width in text.split(","))
    except ValueError:
        raise ValueError(
            f"--layers takes comma-separated integers like 2,3,1, got {text!r}"
        ) from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--layers", default="2,3,1", help="widths from input to output (2,3,1)")
    parser.add_argument("--activation", default="sigmoid", help=" | ".join(ACTIVATIONS))
    parser.add_argument("--loss", default="sum_squares", help=" | ".join(LOSSES))
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (1.0)")
    parser.add_argument("--steps", type=int, default=500, help="updates (500)")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per update (all)")
    parser.add_argument("--shuffle", action="store_true", help="a new row order every epoch")
    parser.add_argument("--init", default="uniform", help=" | ".join(INITS) + " (uniform)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffling")
    parser.add_argument("--dtype", default="float32", help=" | ".join(DTYPES) + " (float32)")
    parser.add_argument("--optimizer", default="sgd", help=" | ".join(OPTIMIZERS) + " (sgd)")
    parser.add_argument(
        "--optimizer-args",
        default="",
        metavar="KEY=VALUE,…",
        help="TF1's constructor arguments, e.g. momentum=0.9,use_nesterov=true",
    )
    parser.add_argument("--decay-steps", type=int, help="exponential decay every N steps (off)")
    parser.add_argument("--decay-rate", type=float, help="exponential decay factor")
    parser.add_argument("--staircase", action="store_true", help="decay in whole steps")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="train tf and keras data-parallel on N logical CPUs (tf.distribute); the others "
        "stay single-device references (1)",
    )
    parser.add_argument("--weights", metavar="FILE.npz", help="initial weights m1, b1, …")
    parser.add_argument("--data", metavar="FILE.npz", help="arrays x and y (default: XOR)")
    parser.add_argument(
        "--impl",
        default=",".join(IMPLEMENTATIONS),
        help=f"which, in order; also {', '.join(OTHER_BACKENDS)} (Keras on another backend)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON (- for stdout)")
    parser.add_argument("--plot", metavar="DIR", help="write PNG figures there")
    parser.add_argument("--save-weights", metavar="DIR", help="write each trained NAME.npz there")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        layers=parse_layers(args.layers),
        activation=args.activation,
        loss=args.loss,
        learning_rate=args.lr,
        steps=args.steps,
        batch_size=args.batch_size,
        shuffle=args.shuffle,
        init=args.init,
        seed=args.seed,
        dtype=args.dtype,
        optimizer=args.optimizer,
        optimizer_args=parse_optimizer_args(args.optimizer_args),
        decay_steps=args.decay_steps,
        decay_rate=args.decay_rate,
        staircase=args.staircase,
        replicas=args.replicas,
    )


def load_data(path: str | None, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    if path is None:
        return check_data(*xor_data(), cfg)
    arrays = load_npz(path, "data")
    missing = [name for name in ("x", "y") if name not in arrays]
    if missing:
        raise ValueError(f"data file {path} has no array {missing[0]!r} (it needs x and y)")
    return check_data(arrays["x"], arrays["y"], cfg)


def describe(cfg: TrainConfig, samples: int) -> str:
    batch = "full batch" if cfg.batch_size is None else f"batches of {cfg.batch_size}"
    shuffle = ", shuffled" if cfg.shuffle else ""
    return (
        f"{'-'.join(map(str, cfg.layers))} {cfg.activation}, {cfg.loss}, "
        f"rate {cfg.learning_rate:g}, {cfg.steps} steps, {batch}{shuffle}, {samples} samples, "
        f"{cfg.init} init seed {cfg.seed}, {cfg.dtype}{describe_optimizer(cfg)}"
        f"{describe_replicas(cfg)}"
    )


def describe_replicas(cfg: TrainConfig) -> str:
    if cfg.replicas == 1:
        return ""
    return (
        f"; {' and '.join(DATA_PARALLEL)} on {cfg.replicas} replicas (MirroredStrategy, "
        f"{cfg.replicas} logical CPUs), the others on one device"
    )


def describe_optimizer(cfg: TrainConfig) -> str:
    if cfg.plain_gradient_descent:
        return ""
    args = ", ".join(
        f"{k}={v:g}" if not isinstance(v, bool) else f"{k}={v}"
        for k, v in cfg.optimizer_args.items()
    )
    text = f", {cfg.optimizer}({args})"
    if cfg.decay_steps is not None:
        kind = "staircase " if cfg.staircase else ""
        text += f", {kind}decay {cfg.decay_rate:g} every {cfg.decay_steps} steps"
    return text


def format_outputs(outputs: np.ndarray) -> str:
    rows = ["/".join(f"{v:.4f}" for v in row) for row in outputs[:SHOWN_ROWS]]
    more = f" … ({len(outputs)} rows)" if len(outputs) > SHOWN_ROWS else ""
    return " ".join(rows) + more


def print_table(comparison: Comparison, samples: int) -> None:
    diverged = comparison.diverged()
    print(describe(comparison.cfg, samples))
    width = max(8, *(len(name) + 1 for name in comparison.names))
    header = f"{'impl':<{width}}{'final loss':>14}  {'outputs':<36}{'seconds':>8}"
    print(f"{header}  largest |diff| from {comparison.reference}: params outputs losses grads")
    for name in comparison.names:
        result = comparison.results[name]
        if name in diverged:
            print(
                f"{name:<{width}}  diverged: loss or weights NaN or inf from step {diverged[name]}"
            )
            continue
        row = f"{name:<{width}}{result.final_loss:>14.8g}  {format_outputs(result.outputs):<36}"
        row += f"{comparison.seconds[name]:>8.3f}  "
        if name == comparison.reference:
            row += "-"
        else:
            row += " ".join(f"{v:.1e}" for v in comparison.largest_differences(name).values())
        print(row)


def verdict(comparison: Comparison) -> str:
    bound = f"{comparison.tolerance.describe()} for {comparison.cfg.dtype}"
    if comparison.diverged():
        names = ", ".join(comparison.diverged())
        return f"DIVERGED: {names} went to NaN or inf; no agreement to check"
    if comparison.agree:
        largest = max(
            (max(comparison.largest_differences(n).values()) for n in comparison.names[1:]),
            default=0.0,
        )
        wider = [n for n in comparison.names if comparison.tolerance_for(n) > comparison.tolerance]
        if wider:
            bound += ", " + ", ".join(
                f"{n}'s {comparison.tolerance_for(n).rtol:.0e}" for n in wider
            )
        notes = "".join(f"\nnote: {note}" for note in comparison.notes)
        return f"agree: every difference within {bound} (largest {largest:.1e}){notes}"
    lines = []
    for name in comparison.names[1:]:
        if comparison.agrees(name):
            continue
        step = comparison.first_parting_step(name)
        losses = (comparison.results[name].losses, comparison.results[comparison.reference].losses)
        parted = (
            f"its loss parts from {comparison.reference}'s at step {step} "
            f"({losses[0][step]:.10g} vs {losses[1][step]:.10g})"
            if step is not None
            else "its losses stay within the tolerance"
        )
        key, index, difference, ratio = comparison.worst_parameter(name)
        where = ",".join(map(str, index))
        lines.append(
            f"DISAGREE: {name}: {parted}; worst weight at the end {key}[{where}], "
            f"off by {difference:.2e}, {ratio:.3g} times its tolerance "
            f"({comparison.tolerance_for(name).describe()} for {comparison.cfg.dtype})"
        )
    lines.append(
        "note: the worst weight is the one furthest outside its tolerance, which grows with its "
        "value; the params column is the largest difference of any weight"
    )
    return "\n".join(lines)


def finite_or_none(values: object) -> object:
    """Nested lists with NaN and inf as None, so the JSON stays valid."""
    if isinstance(values, list):
        return [finite_or_none(v) for v in values]
    return values if isinstance(values, float) and math.isfinite(values) else None


def report(comparison: Comparison) -> dict:
    cfg = comparison.cfg
    return {
        "config": cfg.to_json(),
        "reference": comparison.reference,
        "implementations": {
            name: {
                "params": {k: finite_or_none(v.tolist()) for k, v in result.params.items()},
                "outputs": finite_or_none(result.outputs.tolist()),
                "losses": finite_or_none(result.losses.tolist()),
                "final_loss": finite_or_none(result.final_loss),
                "seconds": comparison.seconds[name],
                "diverged_at": result.diverged_at,
                "largest_difference": {
                    k: finite_or_none(v) for k, v in comparison.largest_differences(name).items()
                },
                "first_parting_step": comparison.first_parting_step(name),
                "tolerance": comparison.tolerance_for(name).rtol,
                "versions": result.versions,
            }
            for name, result in comparison.results.items()
        },
        "agree": comparison.agree,
        "tolerance": comparison.tolerance.rtol,
        "notes": comparison.notes,
    }


def require_backends(names: list[str]) -> None:
    """Keras on another backend needs that backend installed: said before any training."""
    for name in names:
        if name in OTHER_BACKENDS:
            require_backend(name.removeprefix("keras-"))


def require_data_parallel(cfg: TrainConfig, names: list[str]) -> None:
    """``--replicas`` N needs an implementation that trains data-parallel, and N logical CPUs,
    made before TensorFlow starts."""
    if cfg.replicas == 1:
        return
    if not set(names) & set(DATA_PARALLEL):
        raise ValueError(
            f"--replicas {cfg.replicas} trains {' and '.join(DATA_PARALLEL)} data-parallel, and "
            f"neither is among --impl {','.join(names)}"
        )
    from backprop_suite.distribute.devices import split_cpu

    split_cpu(cfg.replicas)


def check_outputs(args: argparse.Namespace, names: list[str]) -> None:
    """Every path an option names can be written: checked before any training, nothing left."""
    if args.plot is not None:
        from backprop_suite.figures import comparison as figures  # matplotlib, checked first

        check_output_folder(args.plot, "--plot", figures.ALL)
    if args.save_weights is not None:
        check_output_folder(args.save_weights, "--save-weights", [f"{n}.npz" for n in names])
    if args.json is not None and args.json != "-":
        check_output_file(args.json, "--json")


def write_outputs(
    args: argparse.Namespace, comparison: Comparison, params: dict, x: np.ndarray, y: np.ndarray
) -> Writes:
    """Write what the options ask for, the JSON first; a failed write is noted, not raised."""
    writes = Writes()
    if args.json is not None and args.json != "-":
        text = results_json(comparison) + "\n"
        writes.attempt("--json", args.json, lambda: write_text(args.json, text))
    if args.save_weights is not None:
        for name, result in comparison.results.items():
            path = Path(args.save_weights) / f"{name}.npz"
            writes.attempt(
                "--save-weights", path, lambda p=path, r=result: save_params(p, r.params)
            )
    if args.plot is not None:
        from backprop_suite.figures import comparison as figures

        caption = describe(comparison.cfg, len(x))
        written: list = []
        folder = Path(args.plot)
        writes.attempt(
            "--plot",
            args.plot,
            lambda: written.extend(figures.write_all(comparison, params, x, y, folder, caption)),
        )
        if written and args.json != "-":
            print("figures: " + ", ".join(str(path) for path in written))
    return writes


def results_json(comparison: Comparison) -> str:
    return json.dumps(report(comparison), indent=1, allow_nan=False)


def prepare(args: argparse.Namespace) -> tuple:
    """The configuration, implementations, data and weights the options name; every output path
    checked. ValueError naming what is wrong."""
    cfg = config_from(args)
    names = parse_names(args.impl)
    require_backends(names)
    require_data_parallel(cfg, names)
    x, y = load_data(args.data, cfg)
    require_schedule_fits(len(x), cfg)
    params = load_params(args.weights, cfg) if args.weights else init_params(cfg)
    check_outputs(args, names)
    return cfg, names, x, y, params


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prepared = checked(lambda: prepare(args))
    if prepared is None:
        return BAD_INPUT
    cfg, names, x, y, params = prepared

    comparison = compare(names, params, x, y, cfg)
    if args.json == "-":
        print(results_json(comparison))
    else:
        print_table(comparison, len(x))
        print(verdict(comparison))
    writes = write_outputs(args, comparison, params, x, y)
    kept = None if args.json == "-" else lambda: results_json(comparison)
    failed = writes.finish(kept)
    if failed is not None:
        return failed
    return 0 if comparison.agree else 1


def run() -> None:
    """The ``backprop-compare`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
