"""scripts/compare.py as a user runs it: exit codes, the table, the JSON, clean errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "compare.py"


def run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env
    )


@pytest.mark.slow
def test_the_seed_program_agrees_across_implementations():
    out = run()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("2-3-1 sigmoid, sum_squares, rate 1, 500 steps")
    assert [line.split()[0] for line in lines[2:5]] == ["manual", "tf", "keras"]
    assert lines[-1].startswith("agree: largest difference")


@pytest.mark.slow
def test_json_to_stdout_has_the_documented_shape():
    out = run("--impl", "manual,tf", "--steps", "20", "--dtype", "float64", "--json", "-")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["agree"] is True and report["config"]["steps"] == 20
    assert set(report["implementations"]) == {"manual", "tf"}
    for entry in report["implementations"].values():
        assert set(entry) == {"params", "outputs", "losses", "final_loss", "seconds"}
        assert set(entry["params"]) == {"m1", "b1", "m2", "b2"}
        assert len(entry["losses"]) == 20 and entry["final_loss"] == entry["losses"][-1]
        assert len(entry["outputs"]) == 4


@pytest.mark.parametrize(
    "args,message",
    [
        (["--layers", "2,x,1"], "--layers takes comma-separated integers"),
        (["--layers", "3,3,1"], "x has shape (4, 2), layers (3, 3, 1) need (samples, 3)"),
        (["--lr", "0"], "learning_rate must be positive"),
        (["--steps", "0"], "steps must be a positive integer"),
        (["--steps", "many"], "argument --steps: invalid int value"),
        (["--activation", "swish"], "unknown activation 'swish'"),
        (["--impl", "manual,torch"], "unknown implementation 'torch'"),
        (["--dtype", "float16"], "unknown dtype 'float16'"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(args, message):
    out = run(*args)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
