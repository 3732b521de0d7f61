"""How often does a net learn XOR? Train thousands of seeds at once over a grid and count.

    backprop-sweep --seeds 0:10000 --plot out/            # widths 2,3,4 x rates 0.5,1,2
    backprop-sweep --layers 2,3,1 --lr 1 --steps 500 5000 --json sweep.json
    backprop-sweep --seeds 0:1000 --steps 200 --check       # cross-check 100 nets
    backprop-sweep --shard 2/3 --json part2.json            # one of three machines
    backprop-sweep merge part1.json part2.json part3.json --json sweep.json

Every seed's net is trained at once by the vectorised NumPy ``train_many``. Each cell of the
grid (widths x rates x optimizers x inits x steps) reports the fraction that learned XOR, the
final losses, the steps until learned, how many of its failures later steps rescue, and the
failed seeds. Several ``--steps`` are read off one run of the longest.

Exit status: 0 done (and with ``--check``, every implementation agreed); 1 ``--check`` found an
implementation outside the bound or a differing verdict; 2 bad input (one ``error: …`` line); 3
the sweep finished but an output could not be written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backprop_suite.cli.script import BAD_INPUT, ArgumentParser, checked, run_script
from backprop_suite.core import ACTIVATIONS, DTYPES, LOSSES, TrainConfig
from backprop_suite.core.outputs import Writes, check_output_file, check_output_folder, write_text
from backprop_suite.quiet import user_stderr
from backprop_suite.sweep.check import DEFAULT_NETS
from backprop_suite.sweep.criteria import DEFAULT, HELP, parse_criterion
from backprop_suite.sweep.text import csv_text, table
from backprop_suite.verify.registry import IMPLEMENTATIONS, parse_names

DEFAULT_LAYERS = ["2,2,1", "2,3,1", "2,4,1"]
DEFAULT_RATES = [0.5, 1.0, 2.0]
FIGURES = ("learned.png", "final_losses.png")


def parse_layers(text: str) -> tuple[int, ...]:
    try:
        layers = tuple(int(width) for width in text.split(","))
    except ValueError:
        raise ValueError(f"--layers takes widths like 2,3,1, got {text!r}") from None
    if layers[0] != 2 or layers[-1] != 1:
        raise ValueError(f"--layers {text}: an XOR net has 2 inputs and 1 output, like 2,3,1")
    return layers


def add_outputs(parser: ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="the sweep as JSON (- for stdout)")
    parser.add_argument("--csv", metavar="PATH", help="one row per cell")
    parser.add_argument("--plot", metavar="DIR", help=f"write {' and '.join(FIGURES)} there")


def sweep_parser() -> ArgumentParser:
    """The sweep's options; its usage names the subcommands too (``SUBCOMMANDS``)."""
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0:10000", help="START:STOP and/or N,… (0:10000)")
    parser.add_argument("--layers", nargs="+", default=DEFAULT_LAYERS, help="2,2,1 2,3,1 2,4,1")
    parser.add_argument("--lr", nargs="+", type=float, default=DEFAULT_RATES, help="0.5 1 2")
    parser.add_argument(
        "--optimizer", nargs="+", default=["sgd"], help="NAME or NAME:key=value,… (sgd)"
    )
    parser.add_argument(
        "--init",
        nargs="+",
        action="extend",
        help="uniform ([0.1, 0.9], the default), xavier, LOW:HIGH; a range below zero needs the "
        "= and its own --init: --init uniform --init=-1:1",
    )
    parser.add_argument("--steps", nargs="+", type=int, default=[500], help="500 (one run)")
    parser.add_argument("--activation", default="sigmoid", help=" | ".join(ACTIVATIONS))
    parser.add_argument("--loss", default="sum_squares", help=" | ".join(LOSSES))
    parser.add_argument("--dtype", default="float32", help=" | ".join(DTYPES) + " (float32)")
    parser.add_argument("--criterion", default=DEFAULT, help=HELP)
    parser.add_argument("--shard", metavar="I/N", help="the I-th of N disjoint parts of the seeds")
    parser.add_argument("--check", action="store_true", help="retrain a sample one at a time")
    parser.add_argument(
        "--check-nets", type=int, default=DEFAULT_NETS, help="how many to retrain (100)"
    )
    parser.add_argument(
        "--impl", default=",".join(IMPLEMENTATIONS), help="what --check retrains in"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_outputs(parser)
    usages = [parser.format_usage().removeprefix("usage: ").rstrip()]
    usages += [
        sub(parser.prog).format_usage().removeprefix("usage: ").rstrip()
        for sub in SUBCOMMANDS.values()
    ]
    parser.usage = "\n       ".join(usages).replace("%", "%%")
    return parser


def merge_parser(prog: str) -> ArgumentParser:
    """``PROG merge``'s options."""
    parser = ArgumentParser(
        prog=f"{prog} merge",
        description="Join the shards' JSON (each from --shard I/N --json) into one sweep's.",
    )
    parser.add_argument(
        "shards", nargs="+", metavar="SHARD.json", help="the shards' --json files, any order"
    )
    add_outputs(parser)
    return parser


# the subcommands: name -> the parser of ``PROG name``, given PROG
SUBCOMMANDS = {"merge": merge_parser}


def parse_args(argv: list[str]) -> argparse.Namespace:
    args = sweep_parser().parse_args(argv)
    args.init = args.init or ["uniform"]
    return args


def parse_merge_args(argv: list[str]) -> argparse.Namespace:
    return merge_parser(sweep_parser().prog).parse_args(argv)


def check_outputs(args: argparse.Namespace) -> None:
    if args.json is not None and args.json != "-":
        check_output_file(args.json, "--json")
    if args.csv is not None:
        check_output_file(args.csv, "--csv")
    if args.plot is not None:
        import backprop_suite.figures.sweep  # noqa: F401  matplotlib, checked before the training starts

        check_output_folder(args.plot, "--plot", FIGURES)


def settings_of(args: argparse.Namespace) -> dict:
    return {
        "seeds": args.seeds,
        "criterion": args.criterion,
        "activation": args.activation,
        "loss": args.loss,
        "dtype": args.dtype,
        "shard": None if args.shard is None else list(args.shard_parts),
    }


def write_outputs(args: argparse.Namespace, document: dict) -> int:
    writes = Writes()
    text = json.dumps(document, allow_nan=False)
    if args.json == "-":
        print(text)
    else:
        print(table(document))
        if args.json is not None:
            writes.attempt("--json", args.json, lambda: write_text(args.json, text + "\n"))
    if args.csv is not None:
        writes.attempt("--csv", args.csv, lambda: write_text(args.csv, csv_text(document)))
    if args.plot is not None:
        from backprop_suite.figures.sweep import write_figures

        written: list = []
        writes.attempt(
            "--plot", args.plot, lambda: written.extend(write_figures(document, Path(args.plot)))
        )
        if written and args.json != "-":
            print("figures: " + ", ".join(map(str, written)))
    failed = writes.finish(None if args.json == "-" else lambda: text)
    return 0 if failed is None else failed


@contextmanager
def progress_bar(total: int, unit: str, disable: bool) -> Iterator:
    """A tqdm bar on the user's stderr, shown only when that is a terminal."""
    from tqdm import tqdm

    stream = user_stderr()
    hidden = disable or not stream.isatty()
    try:
        with tqdm(total=total, unit=unit, unit_scale=True, file=stream, disable=hidden) as bar:
            yield bar
    finally:
        if stream is not sys.stderr:
            stream.close()


def prepare_sweep(args: argparse.Namespace) -> tuple:
    """The criterion, seeds, grid and implementations the options name; ValueError if not."""
    from backprop_suite.sweep.grid import (
        Grid,
        parse_init,
        parse_seeds,
        parse_shard,
        seed_count,
        shard_seeds,
    )

    criterion = parse_criterion(args.criterion)
    grid = Grid(
        layers=tuple(parse_layers(text) for text in args.layers),
        rates=tuple(args.lr),
        optimizers=tuple(args.optimizer),
        inits=tuple(parse_init(text) for text in args.init),
        steps=tuple(args.steps),
        base=TrainConfig(activation=args.activation, loss=args.loss, dtype=args.dtype),
    )
    shards = 1
    if args.shard is not None:
        args.shard_parts = parse_shard(args.shard)
        shards = args.shard_parts[1]
    nets = -(-seed_count(args.seeds) // shards)
    grid.require_memory(nets, args.seeds)  # before the seeds are listed
    seeds = parse_seeds(args.seeds)
    if args.shard is not None:
        seeds = shard_seeds(seeds, args.shard_parts)
    names = parse_names(args.impl)
    unknown = [name for name in names if name not in IMPLEMENTATIONS]
    if unknown:
        raise ValueError(f"--check retrains in {', '.join(IMPLEMENTATIONS)}, not {unknown[0]}")
    if args.check_nets < 1:
        raise ValueError(f"--check-nets must be positive, got {args.check_nets}")
    check_outputs(args)
    return criterion, seeds, grid, names


def sweep(args: argparse.Namespace) -> int:
    prepared = checked(lambda: prepare_sweep(args))
    if prepared is None:
        return BAD_INPUT
    criterion, seeds, grid, names = prepared

    from backprop_suite.sweep.report import record_of
    from backprop_suite.sweep.run import net_steps, train_grid

    started = time.perf_counter()
    with progress_bar(net_steps(grid, seeds), "net-steps", args.no_progress) as bar:
        cells = train_grid(grid, seeds, criterion, bar.update)
    seconds = time.perf_counter() - started
    document = {"sweep": settings_of(args), "cells": [record_of(cell) for cell in cells]}
    status = write_outputs(args, document)
    if args.json != "-":
        total = net_steps(grid, seeds)
        print(
            f"trained {len(seeds)} seeds x {len(grid.runs())} runs, {total:,} net-steps, in "
            f"{seconds:.1f} s ({seconds / total * 1e9:.0f} ns per net-step)"
        )
    if args.check:
        status = max(status, check(args, cells, criterion, names))
    return status


def check(args: argparse.Namespace, cells: list, criterion, names: list[str]) -> int:
    from backprop_suite.sweep.check import CheckReport, retrain, sample

    pairs = sample(cells, args.check_nets)
    with progress_bar(len(pairs) * len(names), "runs", args.no_progress) as bar:
        report = CheckReport(retrain(pairs, criterion, names, bar.update), tuple(names))
    print(report.text(), file=sys.stderr if args.json == "-" else sys.stdout)
    return 0 if report.passed else 1


def read_shards(args: argparse.Namespace) -> dict:
    """The shards' JSON merged; ValueError for a file that cannot be read or merged."""
    from backprop_suite.sweep.report import merge

    documents = []
    for path in args.shards:
        try:
            documents.append(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read {path} as a sweep's JSON ({error})") from None
    try:
        document = merge(documents)
    except (KeyError, TypeError, IndexError, StopIteration) as error:
        raise ValueError(f"a shard is not a backprop-sweep --json file ({error!r})") from None
    check_outputs(args)
    return document


def merge_shards(args: argparse.Namespace) -> int:
    document = checked(lambda: read_shards(args))
    return BAD_INPUT if document is None else write_outputs(args, document)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["merge"]:
        return merge_shards(parse_merge_args(argv[1:]))
    return sweep(parse_args(argv))


def run() -> None:
    """The ``backprop-sweep`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
