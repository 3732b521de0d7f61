"""The seed net on ``MultiWorkerMirroredStrategy``: worker processes on this machine.

``backprop-multi-worker`` (``main`` here) starts the workers, each this module's ``main`` run as
``python -m backprop_suite.children.multi_worker --worker I`` with its own ``TF_CONFIG`` (the
cluster on loopback ports found free just before), waits for them within ``--timeout`` seconds,
kills them if they overrun, and leaves each worker's result in ``OUT/worker-I.npz``. Each worker
trains the seed net data-parallel (one replica per worker) with ``tf_impl`` (custom loop) and
``keras_impl`` (``fit``); every worker ends with the same weights. ``verdict`` then holds every
worker's results to the others' and to one device's (``tf_impl`` in this process) within
``REPLICAS``, the bound of data-parallel training against one device
(``backprop_suite.verify.tolerances``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from backprop_suite.cli.script import ArgumentParser
from backprop_suite.core import DTYPES, LOSSES, TrainConfig, init_params, noisy_xor, xor_data
from backprop_suite.core.memory import describe_bytes, require_fits
from backprop_suite.core.outputs import check_output_folder
from backprop_suite.core.result import TrainResult
from backprop_suite.verify.tolerances import REPLICAS, difference

DATASETS = ("xor", "noisy_xor")
EXTS = ("npz", "log")
# what each worker trains with, by the prefix of its arrays in worker-I.npz
TRAINED_BY = {"tf": "custom loop", "keras": "fit"}
# a worker's resident memory once TensorFlow has run an op (measured: 690 MiB, TF 2.21)
WORKER_BYTES = 690 << 20


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports that nothing listens on now (the OS picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def worker_inputs(cfg: TrainConfig, dataset: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """What every worker trains from: the seed's weights for ``cfg``, and the data."""
    x, y = xor_data(cfg.dtype) if dataset == "xor" else noisy_xor(22, seed=1, dtype=cfg.dtype)
    return init_params(cfg), x, y


@dataclass
class Workers:
    """The outcome of ``launch``: each worker's exit status and output, and whether any had to
    be killed."""

    returncodes: list[int]
    outputs: list[str]
    ports: list[int]
    killed: bool


def launch(
    workers: int, out: Path, argv: list[str], timeout: float = 120.0, tag: str = ""
) -> Workers:
    """Start ``workers`` processes of this module (``--worker I`` plus ``argv``), each with its
    ``TF_CONFIG``; wait at most ``timeout`` seconds in all, then kill what is left (its whole
    process group). ``tag`` is put on every worker's command line, so a caller can look for
    leftovers."""
    ports = free_ports(workers)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    procs: list[subprocess.Popen] = []
    logs = []
    killed = False
    # the workers' own temporary files (autograph writes some) go where the launcher removes
    # them, also those of a worker that had to be killed
    scratch = tempfile.mkdtemp(prefix="workers-")
    try:
        for index in range(workers):
            env = dict(os.environ, TMPDIR=scratch)
            env["TF_CONFIG"] = json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            )
            log = open(out / f"worker-{index}.log", "w+")
            logs.append(log)
            command = [
                sys.executable,
                "-m",
                "backprop_suite.children.multi_worker",
                "--worker",
                str(index),
            ]
            command += ["--out", str(out), *argv] + (["--tag", tag] if tag else [])
            # Ctrl-C waits while a worker starts, so that every started worker is in procs
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                procs.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                killed = True
    except BaseException:  # Ctrl-C: no worker outlives the launcher, nor its files
        end_all(procs)
        shutil.rmtree(scratch, ignore_errors=True)
        for log in logs:
            log.close()
        for index in range(workers):
            for ext in EXTS:
                (out / f"worker-{index}.{ext}").unlink(missing_ok=True)
        raise
    if killed:
        end_all(procs)
    shutil.rmtree(scratch, ignore_errors=True)
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    return Workers([proc.returncode for proc in procs], outputs, ports, killed)


def end_all(procs: list[subprocess.Popen]) -> None:
    """Kill every worker still running (its whole process group) and wait for each."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_worker(index: int, out: Path, cfg: TrainConfig, dataset: str) -> None:
    import tensorflow as tf

    import keras_impl
    import tf_impl.distributed

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    params, x, y = worker_inputs(cfg, dataset)
    arrays = {}
    for name, train in (
        ("tf", lambda: tf_impl.distributed.train(params, x, y, cfg, strategy=strategy)),
        ("keras", lambda: keras_impl.train(params, x, y, cfg, strategy=strategy)),
    ):
        result = train()
        arrays |= {f"{name}/param/{key}": value for key, value in result.params.items()}
        arrays |= {f"{name}/losses": result.losses, f"{name}/outputs": result.outputs}
    np.savez(out / f"worker-{index}.npz", **arrays)


def one_device(cfg: TrainConfig, dataset: str) -> TrainResult:
    """The reference the workers are held to: ``tf_impl``'s custom loop on one device, in this
    process, from the workers' weights and data."""
    import tf_impl

    params, x, y = worker_inputs(cfg, dataset)
    return tf_impl.train(params, x, y, replace(cfg, replicas=1))


def reference_array(reference: TrainResult, key: str) -> np.ndarray:
    """The array of ``reference`` that a worker's ``key`` (``tf/param/m1``, ``keras/losses``)
    holds."""
    what = key.split("/", 1)[1]
    if what.startswith("param/"):
        return reference.params[what.removeprefix("param/")]
    return reference.losses if what == "losses" else reference.outputs


def where(key: str, index: tuple[int, ...]) -> str:
    """``tf/param/m1`` at (0, 1) as ``m1[0,1]``, ``keras/losses`` at (37,) as ``the loss at
    step 37``."""
    what = key.split("/", 1)[1].removeprefix("param/")
    if what == "losses":
        return f"the loss at step {index[0]}" if index else "the losses"
    return f"{what}[{','.join(map(str, index))}]"


def verdict(
    results: Sequence[Mapping[str, np.ndarray]], reference: TrainResult, dtype: str
) -> tuple[int, str]:
    """Whether every worker's results (``worker-I.npz``: weights, losses and outputs of the custom
    loop and of ``fit``) agree with worker 0's and with one device's (``reference``) within
    ``REPLICAS[dtype]``: (0, an ``agree: …`` line) or (1, a ``DIVERGED: …`` line or a
    ``DISAGREE: …`` line for each worker and reference it parts from, naming the array, the
    element and how far)."""
    tolerance = REPLICAS[dtype]
    bound = f"{tolerance.describe()} for {dtype}"
    keys = sorted(results[0])
    diverged = [
        f"worker {index}'s {TRAINED_BY[key.split('/')[0]]} ({key})"
        for index, arrays in enumerate(results)
        for key in keys
        if key in arrays and not np.all(np.isfinite(arrays[key]))
    ]
    if reference.diverged_at is not None:
        diverged.append(f"one device (at step {reference.diverged_at})")
    if diverged:
        return 1, f"DIVERGED: {', '.join(diverged)} went to NaN or inf; no agreement to check"
    lines = []
    largest = 0.0
    for index, arrays in enumerate(results):
        if sorted(arrays) != keys:
            lines.append(
                f"DISAGREE: worker {index} left other arrays than worker 0: "
                f"{sorted(set(keys) ^ set(arrays))}"
            )
            continue
        against = [("one device", lambda key: reference_array(reference, key))]
        if index > 0:
            against.insert(0, ("worker 0", lambda key: results[0][key]))
        for name, old in against:
            for key in keys:
                found = difference(arrays[key], old(key), tolerance)
                if name == "one device":
                    largest = max(largest, found.largest)
                if not found.agrees:
                    lines.append(
                        f"DISAGREE: worker {index}'s {TRAINED_BY[key.split('/')[0]]} parts from "
                        f"{name}: {where(key, found.index)} is {found.new:.10g} against "
                        f"{found.old:.10g}, off by {found.largest:.2e} (tolerance {bound})"
                    )
                    break  # the first array that parts, per worker and reference
    if lines:
        return 1, "\n".join(lines)
    alike = all(np.array_equal(arrays[key], results[0][key]) for arrays in results for key in keys)
    return 0, (
        f"agree: every worker's custom loop and fit within {bound} of the other workers' and of "
        f"one device's (largest from one device {largest:.1e}); the workers "
        + ("alike bit for bit" if alike else "within the bound, not bit for bit")
    )


def report(workers: Workers, out: Path, cfg: TrainConfig, dataset: str) -> int:
    """Print each worker's exit status (and a failed one's output's end), then the verdict on
    agreement; the exit status: 0 all finished and agree, 1 not."""
    for index, (code, output) in enumerate(zip(workers.returncodes, workers.outputs)):
        print(f"worker {index}: exit {code}" + ("" if code == 0 else f"\n{output[-2000:]}"))
    if workers.killed or any(workers.returncodes):
        print("no verdict on agreement: a worker " + ("overran" if workers.killed else "failed"))
        return 1
    results = []
    for index in range(len(workers.returncodes)):
        with np.load(out / f"worker-{index}.npz") as saved:
            results.append({key: saved[key] for key in saved.files})
    status, text = verdict(results, one_device(cfg, dataset), cfg.dtype)
    print(text)
    return status


def main(argv: list[str] | None = None, description: str | None = None) -> int:
    """The command's parser and run; ``description`` is its ``--help`` text (the command's)."""
    parser = ArgumentParser(description=description)
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes, one replica each (2)"
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the folder for worker-I.npz and worker-I.log (made if it is not there)",
    )
    parser.add_argument("--dtype", default="float32", help=" | ".join(DTYPES) + " (float32)")
    parser.add_argument("--steps", type=int, default=500, help="updates (500)")
    parser.add_argument("--batch-size", type=int, help="rows per update, all workers' (all)")
    parser.add_argument("--loss", default="sum_squares", help=" | ".join(LOSSES))
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (1.0)")
    parser.add_argument(
        "--data",
        choices=DATASETS,
        default="xor",
        help="the four XOR rows (xor) or 22 noisy XOR rows (noisy_xor)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds for all workers, after which they are killed (120)",
    )
    args = parser.parse_args(argv)
    try:
        if not args.timeout > 0:
            raise ValueError(f"--timeout must be positive, got {args.timeout}")
        if args.workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {args.workers}")
        if args.worker is None:
            require_fits(
                f"--workers {args.workers} (a TensorFlow process each, about "
                f"{describe_bytes(WORKER_BYTES)})",
                max(args.workers, 0) * WORKER_BYTES,
            )
            names = [f"worker-{i}.{ext}" for i in range(max(args.workers, 0)) for ext in EXTS]
            check_output_folder(args.out, "--out", names)
        cfg = TrainConfig(
            dtype=args.dtype,
            steps=args.steps,
            batch_size=args.batch_size,
            loss=args.loss,
            learning_rate=args.lr,
            replicas=args.workers,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.worker is not None:
        run_worker(args.worker, args.out, cfg, args.data)
        return 0
    made = not args.out.exists()
    args.out.mkdir(parents=True, exist_ok=True)
    config = ["--workers", str(args.workers), "--dtype", args.dtype, "--steps", str(args.steps)]
    config += ["--loss", args.loss, "--lr", repr(args.lr), "--data", args.data]
    config += [] if args.batch_size is None else ["--batch-size", str(args.batch_size)]
    try:
        workers = launch(args.workers, args.out, config, args.timeout)
    except KeyboardInterrupt:  # launch has ended the workers and removed their files
        if made and not any(args.out.iterdir()):
            args.out.rmdir()
        raise
    return report(workers, args.out, cfg, args.data)
