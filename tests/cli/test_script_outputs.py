"""Every script: bad output paths exit 2 before any work, a write that fails after the work exits
3 and keeps the results, and a successful default run writes nothing to stderr."""

import json
import resource

import numpy as np
import pytest
import script_runner

from backprop_suite.bench import sweep
from backprop_suite.core.outputs import EXIT_WRITE_FAILED

FILE_SIZE_LIMIT = 4096  # bytes: the checks' probe fits, a 500-step JSON report does not


def limit_file_size():
    # a real write failure after the work, as a full disk gives: write() fails with EFBIG
    # (Python ignores SIGXFSZ)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def json_after_the_table(stdout: str) -> dict:
    return json.loads(stdout[stdout.index("\n{") + 1 :])


def test_a_json_write_that_fails_after_training_exits_3_and_keeps_the_old_file(tmp_path):
    (tmp_path / "result.json").write_text('{"the": "previous good result"}')
    out = script_runner.run(
        "compare",
        "--impl",
        "manual",
        "--json",
        "result.json",
        cwd=tmp_path,
        preexec_fn=limit_file_size,
    )
    assert out.returncode == EXIT_WRITE_FAILED
    assert out.stderr.splitlines() == [
        "error: --json result.json: could not write (File too large)",
        "error: the results are kept as JSON on stdout",
    ]
    assert out.stdout.startswith("2-3-1 sigmoid")  # the table, then the report
    report = json_after_the_table(out.stdout)
    assert report["agree"] and len(report["implementations"]["manual"]["losses"]) == 500
    assert (tmp_path / "result.json").read_text() == '{"the": "previous good result"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def fail_to_write(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_compare_reports_each_failed_output_and_still_writes_the_rest(
    tmp_path, monkeypatch, capsys
):
    compare = script_runner.load("compare")
    monkeypatch.setattr(compare, "save_params", fail_to_write)
    status = compare.main(
        [
            "--impl",
            "manual",
            "--steps",
            "3",
            "--json",
            str(tmp_path / "r.json"),
            "--save-weights",
            str(tmp_path / "w"),
        ]
    )
    out = capsys.readouterr()
    assert status == EXIT_WRITE_FAILED
    assert out.err.splitlines()[0] == (
        f"error: --save-weights {tmp_path}/w/manual.npz: could not write (No space left on device)"
    )
    assert json.loads((tmp_path / "r.json").read_text()) == json_after_the_table(out.out)


def test_a_failed_run_with_a_failed_write_is_still_not_exit_1(tmp_path, monkeypatch, capsys):
    # a run that diverges exits 1 on its own (tests/cli/test_compare_script.py); a failed write
    # after it must say 3, so that "could not write" is never read as "disagree"
    compare = script_runner.load("compare")
    monkeypatch.setattr(compare, "write_text", fail_to_write)
    argv = ["--impl", "manual", "--lr", "1e38", "--activation", "relu"]
    status = compare.main([*argv, "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr()
    assert "DIVERGED: manual" in out.out and json_after_the_table(out.out)["agree"] is False
    assert status == EXIT_WRITE_FAILED


MANUAL = ["--impl", "manual"]


@pytest.mark.parametrize(
    "script,args,message",
    [
        ("compare", [*MANUAL, "--json", "/proc/x.json"], "--json /proc/x.json: cannot write there"),
        ("compare", [*MANUAL, "--plot", "/proc/figs"], "--plot /proc/figs: cannot make the folder"),
        ("compare", [*MANUAL, "--save-weights", "/proc/w"], "--save-weights /proc/w: cannot make"),
        ("compare", [*MANUAL, "--json", "{d}"], "--json {d}: names a folder, not a file"),
        ("compare", [*MANUAL, "--plot", "{d}/taken"], "{d}/taken/loss_curves.png is a folder"),
        ("compare", [*MANUAL, "--save-weights", "{d}/taken"], "{d}/taken/manual.npz is a folder"),
        ("check_gradients", ["--json", "/proc/x.json"], "--json /proc/x.json: cannot write"),
        ("check_gradients", ["--json", ""], "--json: the path is empty"),
        ("bench", ["--json", "{d}/a_file/x.json"], "{d}/a_file is a file, not a folder"),
        ("bench", ["--plot", "{d}/new/"], "--plot {d}/new/: names a folder, not a file"),
        ("bench", ["--repeats", "0"], "--repeats must be at least 1"),
    ],
)
def test_a_bad_output_path_exits_2_before_any_work(tmp_path, capsys, script, args, message):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "taken" / "loss_curves.png").mkdir(parents=True)
    (tmp_path / "taken" / "manual.npz").mkdir()
    before = sorted(tmp_path.rglob("*"))
    main = script_runner.load(script).main
    status = script_runner.exit_status(main, [a.format(d=tmp_path) for a in args])
    out = capsys.readouterr()
    assert status == 2 and out.out == ""  # nothing trained, nothing printed
    assert out.err.startswith("error: ") and len(out.err.splitlines()) == 1
    assert message.format(d=tmp_path) in out.err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_check_gradients_default_run_is_quiet_and_its_json_holds_every_net(tmp_path):
    out = script_runner.run("check_gradients", "--json", tmp_path / "g.json")
    assert out.returncode == 0 and out.stderr == ""
    nets = json.loads((tmp_path / "g.json").read_text())["nets"]
    assert len(nets) == 36
    # the bounds the gradient tests hold (tests/agreement/test_gradients.py)
    assert max(v for n in nets for v in n["absolute_from_manual"].values()) < 1e-12
    assert max(v for n in nets for v in n["relative_to_finite_differences"].values()) < 1e-7
    assert out.stdout.splitlines()[-1].startswith("largest: ")


@pytest.mark.slow
def test_bench_quick_run_is_quiet_and_writes_its_json(tmp_path):
    # the scaling figure: test_bench_draws_its_scaling_figure_atomically, below
    # the data-parallel rows: tests/distributed/test_replica_commands.py
    args = ("--quick", "--no-scaling", "--no-replicas", "--no-sweep", "--json", "b.json")
    out = script_runner.run("bench", *args, cwd=tmp_path)
    assert out.returncode == 0 and out.stderr == ""
    report = json.loads((tmp_path / "b.json").read_text())
    assert [row["mode"] for row in report["modes"]][0] == "TF1 Session loop (seed program)"
    assert len(report["modes"]) == 10
    assert all(np.isfinite(row["median_s"]) and row["median_s"] > 0 for row in report["modes"])
    assert report["replicas"] == [] and report["sweep"] == []


def test_bench_times_train_many_against_one_net_at_a_time(capsys):
    timings = sweep.sweep_rows(1, nets=50, steps=5)
    assert [row["impl"] for row in timings] == ["manual", "tf", "keras", "tf1"]
    for row in timings[:2]:
        assert row["ns_per_net_step"] == pytest.approx(row["median_s"] / (50 * 5) * 1e9)
    assert all(row["one_at_a_time_ns_per_net_step"] > 0 for row in timings)
    assert [row["ns_per_net_step"] for row in timings[2:]] == [None, None]  # no train_many
    checks = sweep.sweep_checks(timings)
    assert [c["bound"] for c in checks] == [200.0, 400.0]
    assert all(c["met"] == (c["measured"] <= c["bound"]) for c in checks)
    sweep.print_sweep(timings, quick=False)
    out = capsys.readouterr().out
    assert "50 seed nets x 5 steps at once (train_many)" in out
    rows = [line.split()[:2] for line in out.splitlines() if line.startswith(("keras", "tf1"))]
    assert rows == [["keras", "-"], ["tf1", "-"]]


def test_bench_draws_its_scaling_figure_atomically(tmp_path, capsys):
    bench = script_runner.cheap(script_runner.load("bench"))  # NumPy, one width, one size
    (tmp_path / "scaling.png").write_text("the previous figure")
    assert bench(["--quick", "--plot", str(tmp_path / "scaling.png")]) == 0
    assert (tmp_path / "scaling.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scaling.png"]
    assert "by hidden width" in capsys.readouterr().out
