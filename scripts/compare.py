"""Train every implementation from one set of weights and print them side by side.

    python scripts/compare.py                       # the seed program, all implementations
    python scripts/compare.py --dtype float64 --json -

Exit status: 0 when all agree within the tolerance for the dtype, 1 when they do not,
2 for bad input (``error: …`` on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import (  # noqa: E402
    ACTIVATIONS,
    DTYPES,
    INITS,
    LOSSES,
    TOLERANCE,
    TrainConfig,
    check_data,
    init_params,
    largest_difference,
    xor_data,
)
from common.registry import IMPLEMENTATIONS, load_implementation, parse_names  # noqa: E402


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def parse_layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(width) for width in text.split(","))
    except ValueError:
        raise ValueError(
            f"--layers takes comma-separated integers like 2,3,1, got {text!r}"
        ) from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", default="2,3,1", help="widths from input to output (2,3,1)")
    parser.add_argument("--activation", default="sigmoid", help=" | ".join(ACTIVATIONS))
    parser.add_argument("--loss", default="sum_squares", help=" | ".join(LOSSES))
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (1.0)")
    parser.add_argument("--steps", type=int, default=500, help="updates (500)")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per update (all)")
    parser.add_argument("--shuffle", action="store_true", help="a new row order every epoch")
    parser.add_argument("--init", default="uniform", help=" | ".join(INITS))
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights (0)")
    parser.add_argument("--dtype", default="float32", help=" | ".join(DTYPES))
    parser.add_argument("--impl", default=",".join(IMPLEMENTATIONS), help="which to run")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON (- for stdout)")
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
    )


def describe(cfg: TrainConfig) -> str:
    batch = "full batch" if cfg.batch_size is None else f"batches of {cfg.batch_size}"
    shuffle = ", shuffled" if cfg.shuffle else ""
    return (
        f"{'-'.join(map(str, cfg.layers))} {cfg.activation}, {cfg.loss}, "
        f"rate {cfg.learning_rate:g}, {cfg.steps} steps, {batch}{shuffle}, "
        f"{cfg.init} init seed {cfg.seed}, {cfg.dtype}"
    )


def print_table(cfg, results, seconds, differences) -> None:
    names = list(results)
    print(describe(cfg))
    header = f"{'impl':<8}{'final loss':>14}  {'outputs':<36}{'seconds':>8}"
    print(f"{header}  largest |diff| from {names[0]}")
    for name in names:
        result = results[name]
        outputs = " ".join("/".join(f"{v:.4f}" for v in row) for row in result.outputs)
        if name == names[0]:
            diff = "-"
        else:
            diff = " ".join(f"{key} {value:.1e}" for key, value in differences[name].items())
        print(f"{name:<8}{result.final_loss:>14.8g}  {outputs:<36}{seconds[name]:>8.3f}  {diff}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = config_from(args)
        names = parse_names(args.impl)
        x, y = check_data(*xor_data(), cfg)
        params = init_params(cfg)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results, seconds = {}, {}
    for name in names:
        impl = load_implementation(name)
        start = time.perf_counter()
        results[name] = impl.train(params, x, y, cfg)
        seconds[name] = time.perf_counter() - start
    reference = results[names[0]]
    differences = {name: largest_difference(results[name], reference) for name in names[1:]}
    largest = max((max(d.values()) for d in differences.values()), default=0.0)
    diverged = {name: r.diverged_at for name, r in results.items() if r.diverged_at is not None}
    agree = not diverged and largest <= TOLERANCE[cfg.dtype]

    if args.json != "-":
        print_table(cfg, results, seconds, differences)
        for name, step in diverged.items():
            print(f"{name} diverged: its loss is NaN or inf from step {step}")
        verdict = "agree" if agree else "DISAGREE"
        print(f"{verdict}: largest difference {largest:.1e}, tolerance {TOLERANCE[cfg.dtype]:.0e}")
    if args.json:
        report = {
            "config": {**vars(cfg), "layers": list(cfg.layers)},
            "implementations": {
                name: {
                    "params": {k: v.tolist() for k, v in result.params.items()},
                    "outputs": result.outputs.tolist(),
                    "losses": result.losses.tolist(),
                    "final_loss": result.final_loss,
                    "seconds": seconds[name],
                }
                for name, result in results.items()
            },
            "agree": agree,
            "tolerance": TOLERANCE[cfg.dtype],
            "largest_difference": largest,
        }
        text = json.dumps(report, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as file:
                file.write(text + "\n")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
