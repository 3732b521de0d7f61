"""MultiWorkerMirroredStrategy: two worker processes on loopback ports, started, timed out and
cleaned up by the test.

Each worker trains one replica of the seed net with the custom loop and with ``fit``, on 22 noisy
XOR rows in batches of 5 (shares of 3 + 2 and, at the end of each epoch, 1 + 1) with the mean loss,
in float64. Measured: both workers end bit for bit equal, and bit for bit the two-replica
MirroredStrategy run in one process (two replicas add their gradients in one addition, whichever way
round); against one device 3.3e-16, inside the bound of ``tests/distributed/test_distributed.py``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import tf_impl
from backprop_suite.core import TrainConfig
from backprop_suite.core.result import TrainResult
from backprop_suite.distribute import multi_worker
from backprop_suite.distribute.multi_worker import Workers, launch, verdict, worker_inputs
from tf_impl import distributed

pytestmark = pytest.mark.slow

CFG = TrainConfig(dtype="float64", loss="mean_squares", batch_size=5, steps=100, replicas=2)
WORKER_ARGS = ["--workers", "2", "--dtype", "float64", "--loss", "mean_squares"]
WORKER_ARGS += ["--batch-size", "5", "--steps", "100", "--data", "noisy_xor"]
TIMEOUT_S = 150


def processes_with(tag: str) -> list[int]:
    """The pids whose command line holds ``tag``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if tag.encode() in command:
            found.append(int(entry.name))
    return found


def listening_ports() -> set[int]:
    """The local TCP ports something listens on (``/proc/net/tcp``, state 0A). A port the
    workers closed a moment ago is in TIME_WAIT and cannot be bound at once, but nobody holds
    it."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("workers")
    tag = f"test-multi-worker-{uuid.uuid4().hex}"
    outcome = launch(2, out, WORKER_ARGS, timeout=TIMEOUT_S, tag=tag)
    return outcome, out, tag


def test_the_workers_finish_in_time_and_leave_nothing_behind(workers):
    outcome, _, tag = workers
    assert not outcome.killed, f"the workers overran {TIMEOUT_S} s"
    assert outcome.returncodes == [0, 0], outcome.outputs
    assert processes_with(tag) == []
    assert not set(outcome.ports) & listening_ports(), outcome.ports


def test_every_worker_ends_with_the_same_weights_as_one_process_with_two_replicas(workers):
    outcome, out, _ = workers
    assert outcome.returncodes == [0, 0], outcome.outputs
    first, second = (np.load(out / f"worker-{index}.npz") for index in (0, 1))
    assert sorted(first.files) == sorted(second.files)
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    params, x, y = worker_inputs(CFG, "noisy_xor")
    mirrored = distributed.train(params, x, y, CFG)
    one_device = tf_impl.train(params, x, y, replace(CFG, replicas=1))
    for implementation in ("tf", "keras"):
        for key in params:
            trained = first[f"{implementation}/param/{key}"]
            np.testing.assert_array_equal(trained, mirrored.params[key])
            np.testing.assert_allclose(trained, one_device.params[key], rtol=0, atol=1e-14)
        np.testing.assert_array_equal(first[f"{implementation}/outputs"], mirrored.outputs)
        losses = first[f"{implementation}/losses"]
        np.testing.assert_allclose(losses, mirrored.losses, rtol=2 * np.finfo(float).eps, atol=0)


def saved(out: Path) -> list[dict[str, np.ndarray]]:
    results = []
    for index in (0, 1):
        with np.load(out / f"worker-{index}.npz") as arrays:
            results.append({key: arrays[key] for key in arrays.files})
    return results


def one_device() -> TrainResult:
    params, x, y = worker_inputs(CFG, "noisy_xor")
    return tf_impl.train(params, x, y, replace(CFG, replicas=1))


def test_the_verdict_on_the_workers_results_is_agree(workers):
    outcome, out, _ = workers
    assert outcome.returncodes == [0, 0], outcome.outputs
    status, text = verdict(saved(out), one_device(), "float64")
    # the bound: REPLICAS["float64"], 1e-14 absolute (docs/distributed.md, test_distributed.py)
    assert status == 0, text
    assert text.startswith("agree: ") and "1e-14" in text and "bit for bit" in text


@pytest.mark.parametrize(
    ("key", "index", "by", "expected"),
    [
        # 1e-13 is ten times the float64 bound of 1e-14
        ("keras/param/m1", (0, 1), 1e-13, "worker 1's fit parts from worker 0: m1[0,1] is "),
        (
            "tf/losses",
            (37,),
            1e-13,
            "worker 1's custom loop parts from worker 0: the loss at step 37",
        ),
    ],
)
def test_a_worker_whose_result_parts_is_named(workers, key, index, by, expected):
    _, out, _ = workers
    results = saved(out)
    results[1][key] = results[1][key].copy()
    results[1][key][index] += by
    status, text = verdict(results, one_device(), "float64")
    lines = text.splitlines()
    assert status == 1
    assert lines[0].startswith("DISAGREE: " + expected), text
    assert "off by 1.00e-13 (tolerance 1e-14" in lines[0]
    assert lines[1].startswith("DISAGREE: " + expected.replace("worker 0", "one device")), text
    assert len(lines) == 2  # worker 0 agrees with one device


def test_a_worker_that_went_to_nan_is_a_divergence(workers):
    _, out, _ = workers
    results = saved(out)
    results[0]["tf/outputs"] = np.full_like(results[0]["tf/outputs"], np.nan)
    status, text = verdict(results, one_device(), "float64")
    assert status == 1
    assert text.startswith("DIVERGED: worker 0's custom loop (tf/outputs) went to NaN or inf")


@pytest.mark.parametrize("perturbed", [False, True])
def test_the_command_ends_with_the_verdict_and_its_exit_status(
    workers, tmp_path, monkeypatch, capsys, perturbed
):
    """``backprop-multi-worker``'s own output after its workers: the workers replaced by a
    launch that leaves the files of the real run (one of them perturbed)."""
    import script_runner

    _, finished, _ = workers

    def launch_done(count, out, argv, timeout, tag=""):
        assert count == 2
        for index in (0, 1):
            shutil.copy(finished / f"worker-{index}.npz", out / f"worker-{index}.npz")
        if perturbed:
            results = saved(out)
            results[1]["tf/param/b2"] = results[1]["tf/param/b2"] + 1e-6
            np.savez(out / "worker-1.npz", **results[1])
        return Workers([0, 0], ["", ""], [], killed=False)

    monkeypatch.setattr(multi_worker, "launch", launch_done)
    main = script_runner.load("multi_worker").main
    status = script_runner.exit_status(main, [*WORKER_ARGS, "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["worker 0: exit 0", "worker 1: exit 0"]
    if perturbed:
        assert status == 1
        assert lines[2].startswith("DISAGREE: worker 1's custom loop parts from worker 0: b2[0]")
    else:
        assert status == 0 and lines[2].startswith("agree: ") and len(lines) == 3


def test_a_worker_that_failed_gives_no_verdict_and_exit_1(tmp_path, monkeypatch, capsys):
    import script_runner

    def launch_failed(count, out, argv, timeout, tag=""):
        return Workers([0, 1], ["", "Traceback …\nRuntimeError: boom"], [], killed=False)

    monkeypatch.setattr(multi_worker, "launch", launch_failed)
    main = script_runner.load("multi_worker").main
    status = script_runner.exit_status(main, ["--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert status == 1
    assert "RuntimeError: boom" in out
    assert out.splitlines()[-1] == "no verdict on agreement: a worker failed"


def test_the_leftover_checks_see_a_listener_and_a_process():
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert listener.getsockname()[1] in listening_ports()
    tag = f"test-leftover-{uuid.uuid4().hex}"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", tag])
    try:
        deadline = time.monotonic() + 10  # under load the new process may take a moment to show
        while not processes_with(tag) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_with(tag) == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert processes_with(tag) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers must be a positive integer, got 0"),
        (["--timeout", "0"], "--timeout must be positive"),
        (["--dtype", "float16"], "unknown dtype 'float16'"),
        (["--data", "mnist"], "argument --data: invalid choice"),
        (["--out", "{d}/a_file"], "--out {d}/a_file: is a file, not a folder"),
    ],
)
def test_bad_input_is_one_error_line_and_starts_no_worker(tmp_path, capsys, args, message):
    import script_runner

    main = script_runner.load("multi_worker").main
    (tmp_path / "a_file").write_text("")
    argv = ["--out", str(tmp_path / "out"), *(arg.format(d=tmp_path) for arg in args)]
    status = script_runner.exit_status(main, argv)
    out = capsys.readouterr()
    assert status == 2 and out.out == ""
    assert out.err.startswith("error: ") and message.format(d=tmp_path) in out.err
    assert len(out.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
