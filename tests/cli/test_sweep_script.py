"""scripts/sweep.py as a user runs it: the table and files, shards that merge into the unsharded
run, clean errors, and --check against every implementation."""

import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest
import script_runner

import manual_impl.many
from backprop_suite.sweep.check import CheckReport, Retrained
from backprop_suite.sweep.criteria import parse_criterion
from backprop_suite.sweep.grid import Grid
from backprop_suite.sweep.run import train_grid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ["--seeds", "0:90", "--layers", "2,2,1", "2,3,1", "--lr", "1", "2", "--steps", "150", "400"]


@pytest.fixture(scope="module")
def sweep():
    return script_runner.load("sweep")


def run(module, *args):
    return script_runner.run_in_process(module, *args)


def test_the_table_json_csv_and_figures_describe_the_same_cells(sweep, tmp_path):
    done = run(
        sweep,
        *SMALL,
        "--json",
        tmp_path / "s.json",
        "--csv",
        tmp_path / "s.csv",
        "--plot",
        tmp_path / "figs",
    )
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == "XOR, sigmoid, sum_squares, float32, full batch; learned = sides"
    document = json.loads((tmp_path / "s.json").read_text())
    cells = document["cells"]
    assert [(c["layers"], c["learning_rate"], c["steps"]) for c in cells] == [
        (layers, rate, steps)
        for layers in ([2, 2, 1], [2, 3, 1])
        for rate in (1.0, 2.0)
        for steps in (150, 400)
    ]
    for line, cell in zip(lines[2:10], cells):
        assert f"{cell['solved_fraction']:.2%} ({cell['solved']}/90)" in line
    csv_rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(csv_rows) == 9 and csv_rows[0].startswith("layers,learning_rate,optimizer")
    for row, cell in zip(csv_rows[1:], cells):
        fields = row.split(",")
        assert int(fields[6]) == cell["solved"]
        assert fields[-1].split() == [str(seed) for seed in cell["failed_seeds"]]
    for cell in cells:
        per_seed = cell["per_seed"]
        assert per_seed["seeds"] == list(range(90))
        assert cell["solved"] == sum(per_seed["solved"]) == 90 - len(cell["failed_seeds"])
        assert len(cell["failed_outputs"]) == len(cell["failed_seeds"])
        assert cell["final_loss"]["median"] == pytest.approx(np.median(per_seed["final_loss"]))
    for name in ("learned.png", "final_losses.png"):
        assert (tmp_path / "figs" / name).read_bytes().startswith(PNG_SIGNATURE)


def test_more_steps_rescue_failures_and_the_table_counts_them(sweep, tmp_path):
    done = run(sweep, *SMALL, "--json", tmp_path / "s.json")
    cells = json.loads((tmp_path / "s.json").read_text())["cells"]
    short, long = cells[0], cells[1]  # 2-2-1 rate 1: 150 and 400 steps of one run
    rescued = set(short["failed_seeds"]) - set(long["failed_seeds"])
    assert rescued  # measured: most nets need more than 150 steps
    assert f"{len(rescued)} by 400" in done.stdout.splitlines()[2]


def test_three_shards_merge_into_the_unsharded_run(sweep, tmp_path):
    assert run(sweep, *SMALL, "--json", tmp_path / "whole.json").returncode == 0
    parts = []
    for index in (1, 2, 3):
        part = tmp_path / f"part{index}.json"
        assert run(sweep, *SMALL, "--shard", f"{index}/3", "--json", part).returncode == 0
        parts.append(part)
    assert json.loads(parts[1].read_text())["cells"][0]["per_seed"]["seeds"][:3] == [1, 4, 7]
    merged = run(sweep, "merge", parts[2], parts[0], parts[1], "--json", tmp_path / "m.json")
    assert merged.returncode == 0, merged.stderr
    whole = json.loads((tmp_path / "whole.json").read_text())
    assert json.loads((tmp_path / "m.json").read_text()) == whole
    assert merged.stdout.splitlines()[:10] == run(sweep, *SMALL).stdout.splitlines()[:10]


@pytest.mark.parametrize(
    "shards,message",
    [
        ((1, 2), "shards 1 to N of one N, each once; got 1/3, 2/3"),
        ((1, 1, 2, 3), "shards 1 to N of one N, each once"),
        (("whole",), "is not a shard"),
        (("settings", 2, 3), "different settings"),
        (("other_seeds", 2, 3), "different settings"),
        (("broken", 2, 3), "cannot read"),
        (("missing", 2, 3), "cannot read"),
    ],
)
def test_a_merge_of_the_wrong_files_names_the_problem(sweep, tmp_path, shards, message):
    small = ["--seeds", "0:9", "--layers", "2,2,1", "--lr", "1", "--steps", "20"]
    for index in (1, 2, 3):
        run(sweep, *small, "--shard", f"{index}/3", "--json", tmp_path / f"{index}.json")
    run(sweep, *small, "--json", tmp_path / "whole.json")
    other = ["--criterion", "within:0.2", "--shard", "1/3"]
    run(sweep, *small, *other, "--json", tmp_path / "settings.json")
    more = [*small[2:], "--seeds", "0:12", "--shard", "1/3"]
    run(sweep, *more, "--json", tmp_path / "other_seeds.json")
    (tmp_path / "broken.json").write_text("{")
    done = run(sweep, "merge", *(tmp_path / f"{shard}.json" for shard in shards))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert message in done.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--seeds", "9:3"], "range 9:3 is empty"),
        (["--layers", "3,2,1"], "2 inputs and 1 output"),
        (["--layers", "2,x,1"], "widths like 2,3,1"),
        (["--lr", "-1"], "learning_rate must be positive"),
        (["--steps", "0"], "steps must be a positive integer"),
        (["--optimizer", "momentum"], "momentum"),
        (["--optimizer", "nadam"], "unknown optimizer 'nadam'"),
        (["--init", "2:1"], "LOW < HIGH"),
        (["--criterion", "within"], "--criterion takes"),
        (["--shard", "3/2"], "1 <= I <= N"),
        (["--check-nets", "0"], "--check-nets must be positive"),
        (["--impl", "keras-jax"], "--check retrains in manual, tf, keras, tf1"),
        (["--dtype", "float16"], "unknown dtype"),
        (["--json", "/proc/x.json"], "--json /proc/x.json: cannot write there"),
        (["--plot", "/proc/figs"], "--plot /proc/figs: cannot make the folder"),
    ],
)
def test_bad_input_exits_2_with_one_line_before_any_training(sweep, args, message):
    done = run(sweep, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert message in done.stderr


def test_init_ranges_below_zero_are_given_one_per_option(sweep):
    args = ["--seeds", "0:4", "--layers", "2,3,1", "--lr", "1", "--steps", "5", "--json", "-"]
    done = run(sweep, *args, "--init", "uniform", "xavier", "--init=-1:1")
    assert [cell["init"] for cell in json.loads(done.stdout)["cells"]] == [
        "uniform",
        "xavier",
        "-1:1",
    ]


def test_a_progress_bar_shows_on_a_terminal_and_nowhere_else():
    args = ["--seeds", "0:50", "--layers", "2,3,1", "--lr", "1", "--steps", "50"]
    main, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, str(script_runner.SCRIPTS / "sweep.py"), *args],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=script_runner.user_environment(),
            timeout=120,
        )
        os.close(terminal)
        shown = b""
        while chunk := read_some(main):
            shown += chunk
    finally:
        os.close(main)
    assert done.returncode == 0
    # 50 nets x 50 steps, counted in net-steps, in tqdm's words
    assert b"100%" in shown and b"2.50k/2.50k" in shown and b"net-steps/s" in shown
    piped = script_runner.run("sweep", *args)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.splitlines()[2] == done.stdout.decode().splitlines()[2]


def read_some(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the terminal's other end is closed: all read
        return b""


def test_json_to_stdout_is_only_the_json(sweep):
    done = run(sweep, "--seeds", "0:5", "--layers", "2,3,1", "--lr", "1", "--json", "-")
    document = json.loads(done.stdout)
    assert document["cells"][0]["nets"] == 5 and document["sweep"]["shard"] is None


def test_check_finds_a_vectorised_run_that_differs_from_the_nets_trained_alone(sweep, monkeypatch):
    args = ["--seeds", "0:30", "--layers", "2,3,1", "--lr", "1", "--steps", "100"]
    assert run(sweep, *args, "--check", "--impl", "manual").returncode == 0
    slightly_off = manual_impl.many.sigmoid
    monkeypatch.setattr(manual_impl.many, "sigmoid", lambda net: slightly_off(net * 1.001))
    done = run(sweep, *args, "--check", "--impl", "manual")
    assert done.returncode == 1
    assert "outside the bound: manual, 2-3-1 rate 1 sgd uniform 100 steps, seed" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("check: DISAGREE")


def test_a_differing_verdict_is_reported_with_every_implementations_loss():
    grid = Grid(((2, 3, 1),), (1.0,), ("sgd",), ("uniform",), (500,))
    (cell,) = train_grid(grid, [56], parse_criterion("sides"))
    net = Retrained(cell, 0, verdicts={"vectorised": False, "manual": True})
    net.final_losses = {"vectorised": 0.517, "manual": 0.49}
    net.within = {"manual": True}
    net.output_differences = net.loss_differences = {"manual": 0.0}
    net.worst = net.to_sensitivity = {"manual": 0.0}
    report = CheckReport([net], ("manual",))
    assert not report.passed
    assert (
        "verdicts differ: 2-3-1 rate 1 sgd uniform 500 steps, seed 56: vectorised failed "
        "(loss 0.517), manual learned (loss 0.49)" in report.text()
    )


@pytest.mark.slow
def test_check_retrains_nets_in_all_four_implementations_and_they_agree(sweep):
    """25 nets, where ``--check`` retrains 100 by default: each net costs a TF1 graph (a third
    of a second), and agreement over many nets is tests/agreement/test_train_many.py's."""
    args = ["--seeds", "0:400", "--layers", "2,3,1", "--lr", "1", "2", "--steps", "150"]
    done = run(sweep, *args, "--check", "--check-nets", "25")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    check = lines[lines.index(next(line for line in lines if line.startswith("check: 25 nets"))) :]
    assert "retrained one at a time in manual, tf, keras, tf1" in check[0]
    assert [row.split()[0] for row in check[4:8]] == ["manual", "tf", "keras", "tf1"]
    assert all(row.split()[-2:] == ["0", "0"] for row in check[4:8])
    assert check[-1].startswith("check: agree")
