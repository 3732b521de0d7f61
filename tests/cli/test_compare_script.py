"""scripts/compare.py as a user runs it: exit codes, the table, the JSON, figures, clean errors."""

import json
import re

import numpy as np
import pytest
import script_runner as scripts

from backprop_suite.core import TrainConfig, init_params, load_params, save_params

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd=None):
    return scripts.run("compare", *args, cwd=cwd)


@pytest.mark.slow
def test_the_seed_program_agrees_across_implementations():
    out = run()
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # TensorFlow's start-up lines filtered, nothing else written
    lines = out.stdout.splitlines()
    assert lines[0].startswith(
        "2-3-1 sigmoid, sum_squares, rate 1, 500 steps, full batch, 4 samples"
    )
    assert [line.split()[0] for line in lines[2:6]] == ["manual", "tf", "keras", "tf1"]
    assert lines[-1].startswith("agree: every difference within 1e-04")


@pytest.mark.slow
def test_a_run_with_every_output_writes_table_json_figures_and_weights(tmp_path):
    out = run(
        "--layers",
        "2,4,1",
        "--lr",
        "0.5",
        "--steps",
        "300",
        "--plot",
        "out/",
        "--json",
        "out/result.json",
        "--save-weights",
        "out/weights",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert (
        "figures: out/loss_curves.png, out/decision_surface.png, out/hidden_units.png, "
        "out/update_schedules.png, out/optimizers.png" in out.stdout
    )
    for name in (
        "loss_curves",
        "decision_surface",
        "hidden_units",
        "update_schedules",
        "optimizers",
    ):
        png = (tmp_path / "out" / f"{name}.png").read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    report = json.loads((tmp_path / "out" / "result.json").read_text())
    assert report["agree"] is True and report["reference"] == "manual"
    assert report["config"]["layers"] == [2, 4, 1] and report["config"]["steps"] == 300
    assert list(report["implementations"]) == ["manual", "tf", "keras", "tf1"]
    for entry in report["implementations"].values():
        assert set(entry) >= {"params", "outputs", "losses", "final_loss", "seconds"}
        assert set(entry["params"]) == {"m1", "b1", "m2", "b2"}
        assert len(entry["losses"]) == 300 and entry["final_loss"] == entry["losses"][-1]
        assert np.shape(entry["params"]["m1"]) == (2, 4) and len(entry["outputs"]) == 4
    cfg = TrainConfig(layers=(2, 4, 1))
    for name in ("manual", "tf", "keras", "tf1"):
        saved = load_params(tmp_path / "out" / "weights" / f"{name}.npz", cfg)
        np.testing.assert_allclose(saved["m1"], report["implementations"][name]["params"]["m1"])


@pytest.mark.slow
def test_a_disagreement_names_the_step_and_the_worst_weight_and_exits_1(tmp_path):
    # measured: float32 NumPy and TF part where this net's loss spikes, near step 1200
    out = run(
        "--layers",
        "2,4,3,1",
        "--lr",
        "0.5",
        "--steps",
        "2000",
        "--impl",
        "manual,tf",
        "--json",
        tmp_path / "result.json",
    )
    assert out.returncode == 1, out.stderr
    found = re.search(
        r"DISAGREE: tf: its loss parts from manual's at step (\d+) \(.* vs .*\); "
        r"worst weight at the end ([mb]\d)\[([\d,]+)\], off by ([\d.e+-]+), ([\d.]+) times "
        r"its tolerance \(1e-04 x \(1 \+ \|value\|\) for float32\)",
        out.stdout,
    )
    assert found, out.stdout
    report = json.loads((tmp_path / "result.json").read_text())
    assert report["agree"] is False
    step = report["implementations"]["tf"]["first_parting_step"]
    assert 1000 < step < 1400 and int(found[1]) == step  # the step is the CPU's (docs/cpus.md)
    # the worst weight, found again from the weights written: the largest |diff| / (1 + |value|)
    tf, manual = (report["implementations"][n]["params"] for n in ("tf", "manual"))
    apart = {k: np.abs(np.subtract(tf[k], manual[k])) for k in tf}
    ratios = {k: apart[k] / (1e-4 * (1 + np.abs(manual[k]))) for k in tf}
    key = max(ratios, key=lambda k: ratios[k].max())
    index = np.unravel_index(np.argmax(ratios[key]), np.shape(ratios[key]))
    assert (found[2], found[3]) == (key, ",".join(map(str, index)))
    assert float(found[4]) == pytest.approx(apart[key][index], rel=1e-2)
    assert float(found[5]) == pytest.approx(ratios[key][index], rel=1e-2)
    # the params column is the largest |diff| of any weight, which can be another one
    column = float(out.stdout.splitlines()[3].split()[-4])
    assert column == pytest.approx(max(a.max() for a in apart.values()), rel=0.06)
    assert column >= float(found[4])
    assert "note: the worst weight is the one furthest outside its tolerance" in out.stdout


def test_a_run_that_goes_to_nan_is_reported_as_diverged_not_as_a_result():
    out = run("--lr", "1e38", "--activation", "relu", "--impl", "manual")
    assert out.returncode == 1
    assert "manual    diverged: loss or weights NaN or inf from step 1" in out.stdout
    assert "DIVERGED: manual went to NaN or inf" in out.stdout
    report = json.loads(
        run("--lr", "1e38", "--activation", "relu", "--impl", "manual", "--json", "-").stdout
    )
    entry = report["implementations"]["manual"]
    assert entry["diverged_at"] == 1 and entry["losses"][1] is None and not report["agree"]


def test_a_high_rate_that_only_saturates_is_not_called_diverged():
    # --lr 100: the sigmoids saturate, every output goes to 0 and the loss stays at 2.0
    out = run("--lr", "100", "--impl", "manual", "--json", "-")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["implementations"]["manual"]["diverged_at"] is None
    assert report["implementations"]["manual"]["final_loss"] == pytest.approx(2.0, abs=1e-6)


def test_weights_and_data_files_are_used(tmp_path):
    cfg = TrainConfig(layers=(3, 2, 2), dtype="float64")
    save_params(tmp_path / "w.npz", init_params(cfg, seed=4))
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.uniform(0, 1, (6, 3)), y=rng.uniform(0, 1, (6, 2)))
    out = run(
        "--layers",
        "3,2,2",
        "--dtype",
        "float64",
        "--steps",
        "5",
        "--impl",
        "manual",
        "--weights",
        tmp_path / "w.npz",
        "--data",
        tmp_path / "d.npz",
        "--json",
        "-",
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert len(report["implementations"]["manual"]["outputs"]) == 6
    assert report["config"]["layers"] == [3, 2, 2]


def bad_files(tmp_path):
    cfg = TrainConfig()
    save_params(tmp_path / "wide.npz", init_params(TrainConfig(layers=(2, 5, 1))))
    save_params(tmp_path / "no_b2.npz", {k: v for k, v in init_params(cfg).items() if k != "b2"})
    nan_weights = init_params(cfg)
    nan_weights["m2"][0, 0] = np.nan
    save_params(tmp_path / "nan_weights.npz", nan_weights)
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip file at all")
    np.savez(tmp_path / "nan_data.npz", x=[[0, 0], [np.nan, 1]], y=[[0], [1]])
    np.savez(tmp_path / "no_y.npz", x=[[0, 0], [1, 1]])
    np.savez(tmp_path / "three_inputs.npz", x=np.zeros((4, 3)), y=np.zeros((4, 1)))
    (tmp_path / "a_file").write_text("")
    return tmp_path


BAD_INPUT = [
    (["--layers", "2,x,1"], "--layers takes comma-separated integers"),
    (["--layers", "3,3,1"], "x has shape (4, 2), layers (3, 3, 1) need (samples, 3)"),
    (["--lr", "0"], "learning_rate must be positive"),
    (["--lr", "nan"], "learning_rate must be positive and finite"),
    (["--lr", "1e39"], "learning_rate 1e+39 is not a positive finite float32"),
    (["--steps", "0"], "steps must be a positive integer"),
    (["--steps", "many"], "argument --steps: invalid int value"),
    (["--batch-size", "0"], "batch_size must be None or a positive integer"),
    (["--activation", "swish"], "unknown activation 'swish'"),
    (["--loss", "hinge"], "unknown loss 'hinge'"),
    (["--init", "he"], "unknown init 'he'"),
    (["--impl", "manual,torch"], "unknown implementation 'torch'"),
    (["--impl", "tf,tf"], "named twice"),
    (["--dtype", "float16"], "unknown dtype 'float16'"),
    (["--seed", "-1"], "seed must be a non-negative integer"),
    (["--no-such-option"], "unrecognized arguments"),
    (["--optimizer", "nadam"], "unknown optimizer 'nadam'"),
    (["--optimizer", "momentum"], "momentum needs optimizer_args['momentum']"),
    (["--optimizer-args", "nope"], "--optimizer-args takes key=value,…, got 'nope'"),
    (["--optimizer", "adam", "--optimizer-args", "beta1=x"], "beta1: 'x' is not a number"),
    (["--optimizer", "adam", "--optimizer-args", "beta1=1"], "beta1 must be in [0, 1)"),
    (["--decay-steps", "5"], "decay_steps and decay_rate go together"),
    (["--replicas", "0"], "replicas must be a positive integer, got 0"),
    (["--replicas", "2", "--impl", "manual,tf1"], "--replicas 2 trains tf and keras data-parallel"),
    (["--weights", "{d}/absent.npz"], "weights file {d}/absent.npz does not exist"),
    (["--weights", "{d}/corrupt.npz"], "is not an .npz archive of plain arrays"),
    (["--weights", "{d}/wide.npz"], "weight m1 has shape (2, 5), layers (2, 3, 1) need (2, 3)"),
    (["--weights", "{d}/no_b2.npz"], "missing weight keys ['b2']"),
    (["--weights", "{d}/nan_weights.npz"], "weight m2 contains NaN or inf"),
    (["--data", "{d}/nan_data.npz"], "x contains NaN or inf"),
    (["--data", "{d}/no_y.npz"], "has no array 'y'"),
    (["--data", "{d}/three_inputs.npz"], "x has shape (4, 3)"),
    (["--data", "{d}/absent.npz"], "does not exist"),
    (["--plot", "{d}/a_file"], "--plot {d}/a_file: is a file, not a folder"),
    (["--save-weights", "{d}/a_file/sub"], "--save-weights {d}/a_file/sub: cannot make the folder"),
]


@pytest.mark.parametrize("args,message", BAD_INPUT)
def test_bad_input_exits_2_with_one_error_line(tmp_path, capsys, args, message):
    folder = bad_files(tmp_path)
    status = scripts.exit_status(scripts.load("compare").main, [a.format(d=folder) for a in args])
    out = capsys.readouterr()
    assert status == 2
    assert out.err.startswith("error: ") and message.format(d=folder) in out.err
    assert len(out.err.strip().splitlines()) == 1 and out.out == ""


@pytest.mark.parametrize(
    "args,message",
    [
        (["--steps", "many"], "argument --steps: invalid int value"),
        (["--data", "{d}/nan_data.npz"], "x contains NaN or inf"),
        (["--weights", "{d}/corrupt.npz"], "is not an .npz archive of plain arrays"),
    ],
)
def test_bad_input_in_a_real_process_has_no_traceback(tmp_path, args, message):
    folder = bad_files(tmp_path)
    out = run(*(arg.format(d=folder) for arg in args))
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message.format(d=folder) in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_an_optimizer_with_decay_agrees_and_is_recorded_in_the_json(capsys):
    argv = ["--impl", "manual,tf,tf1", "--optimizer", "momentum", "--lr", "0.1", "--steps", "40"]
    argv += ["--optimizer-args", "momentum=0.9,use_nesterov=true", "--dtype", "float64"]
    argv += ["--decay-steps", "10", "--decay-rate", "0.5", "--staircase", "--json", "-"]
    status = scripts.exit_status(scripts.load("compare").main, argv)
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["agree"]
    assert report["config"]["optimizer"] == "momentum"
    assert report["config"]["optimizer_args"] == {"momentum": 0.9, "use_nesterov": True}
    assert report["config"]["decay_steps"] == 10 and report["config"]["staircase"] is True
    tf, tf1 = report["implementations"]["tf"], report["implementations"]["tf1"]
    assert tf["losses"] == tf1["losses"] and tf["params"] == tf1["params"]  # bit for bit


@pytest.mark.slow
def test_replicas_train_tf_and_keras_data_parallel_and_agree_in_a_real_process():
    out = run("--replicas", "2", "--dtype", "float64", "--json", "-")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["agree"] and report["config"]["replicas"] == 2
    manual = report["implementations"]["manual"]
    for name in ("tf", "keras"):
        trained = report["implementations"][name]["params"]
        for key, value in trained.items():
            # two replicas sum the batch in another order: not bit for bit, far inside 1e-12
            np.testing.assert_allclose(value, manual["params"][key], rtol=0, atol=1e-14)
