"""TF1 checkpoints carried into Keras 3 (``convert_checkpoint.py``) and the check started from one
(``check_migration.py --from-checkpoint``). Every checkpoint here is written by the TF1 program
itself, trained some steps and saved by a ``tf.train.Saver`` in its own process; the reference
for every comparison is that TF1 program restored from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gallery import GALLERY
from script_runner import load, one_error_line, run_in_process

from backprop_suite.migration.tf1.checkpoints import read_checkpoint
from backprop_suite.migration.tf1.old_program import OldProgram, old_program
from backprop_suite.migration.tf1.save import run_save
from backprop_suite.verify.tolerances import MIGRATION, difference

TUTORIAL = Path(__file__).resolve().parents[1] / "fixtures" / "tutorial_style"
SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
convert = load("convert_checkpoint")
check_migration = load("check_migration")
# the towers need two logical CPUs in this process: tests/distributed checks them
PROGRAMS = sorted(p.name for p in GALLERY.iterdir() if (p / "keras3.py").is_file())
PROGRAMS.remove("towers")
KERAS_FILES = {"autoencoder_rmsprop": "model.keras", "conv_net": "model.keras"}


def saved(tmp_path: Path, old: Path | OldProgram, steps: int = 3) -> str:
    old = old if isinstance(old, OldProgram) else old_program(old)
    return run_save(old, steps, str(tmp_path / "ckpt" / f"model.ckpt-{steps}"))


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_every_gallery_checkpoint_converts_and_gives_tf1s_outputs(tmp_path, program):
    """Two of them to ``.keras``, read back by ``load_model``: the autoencoder's loss is a
    function of its port's file, which the reading finds there."""
    prefix = saved(tmp_path, GALLERY / program / "tf1.py", 2)
    out = tmp_path / KERAS_FILES.get(program, "model.weights.h5")
    done = run_in_process(
        convert,
        prefix,
        GALLERY / program / "keras3.py",
        "--out",
        out,
        "--json",
        "-",
        "--check",
        GALLERY / program / "tf1.py",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert found["agrees"] and found["loss"]["agrees"] and out.is_file()
    assert found["outputs"]["agrees"], found  # every gallery program names its outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", out.name]


@pytest.mark.slow
def test_the_lstm_goes_through_its_gate_and_forget_bias_transforms(tmp_path):
    """TF1's one kernel fills Keras's kernel and recurrent kernel; a checkpoint of Keras's gate
    order with the forget bias left out would fail the check, so the numbers prove the
    transforms: here the file's outputs equal TF1's to float32 rounding."""
    prefix = saved(tmp_path, GALLERY / "lstm" / "tf1.py", 5)
    out = tmp_path / "lstm.weights.h5"
    port = GALLERY / "lstm" / "keras3.py"
    done = run_in_process(
        convert, prefix, port, "--out", out, "--check", GALLERY / "lstm" / "tf1.py"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rnn/rnn/basic_lstm_cell/kernel -> classifier/lstm/lstm_cell/kernel, " in done.stdout
    wrong = Path(__file__).resolve().parents[1] / "fixtures" / "wrong_ports"
    done = run_in_process(
        convert,
        prefix,
        wrong / "lstm_forget_bias_dropped.py",
        "--out",
        tmp_path / "w.weights.h5",
        "--check",
        GALLERY / "lstm" / "tf1.py",
    )
    assert done.returncode == 1 and "check outputs: DISAGREES" in done.stdout, done.stdout


@pytest.mark.slow
def test_a_keras_file_resumes_training_where_tf1_stopped(tmp_path):
    """``keras.saving.load_model`` of the ``.keras`` file, one ``train_on_batch`` on the batch
    TF1 trains next: the weights after it are TF1's after its next step, from the same
    checkpoint, within the float32 bound of the check (TF1Adam's slots and β powers carried)."""
    import keras

    from backprop_suite.migration import run_tf1
    from backprop_suite.migration.programs import load_module

    old = GALLERY / "mlp_adam" / "tf1.py"
    prefix = saved(tmp_path, old, 4)
    out = tmp_path / "mlp.keras"
    done = run_in_process(convert, prefix, GALLERY / "mlp_adam" / "keras3.py", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    # 12 slots, the 2 powers, and the step count that beta1_power is 0.9 to the power of
    assert "optimizer state carried: 15 entries" in done.stdout
    record = run_tf1(OldProgram(str(old), checkpoint=prefix), 1)
    model = keras.saving.load_model(out)
    batch = record.batches[0]
    model.train_on_batch(batch["x"], batch["y"])
    # a loaded model's paths start at its layers: "hidden_1/kernel" for the port's "mlp/hidden_1/…"
    paths = {f"mlp/{v.path}": v.numpy() for v in model.trainable_variables}
    weight_map = load_module(GALLERY / "mlp_adam" / "keras3.py").WEIGHT_MAP
    bound = MIGRATION["float32"]
    for name, value in zip(record.names, record.after[0]):
        resumed = paths[weight_map[name]]
        assert difference(resumed, value, bound).agrees, name
    fresh = keras.saving.load_model(out)  # without the slots, the same step is another one
    fresh.optimizer.build(fresh.trainable_variables)
    for variable in fresh.optimizer.variables:
        if variable.path.endswith(("_m", "_v")):
            variable.assign(np.zeros(variable.shape, variable.dtype))
    fresh.train_on_batch(batch["x"], batch["y"])
    moved = {f"mlp/{v.path}": v.numpy() for v in fresh.trainable_variables}
    assert not all(
        difference(moved[weight_map[n]], value, bound).agrees
        for n, value in zip(record.names, record.after[0])
    )


RESUMED = [
    (GALLERY / "mlp_adam", "adam"),
    (GALLERY / "autoencoder_rmsprop", "rmsprop"),
    (TUTORIAL / "lenet", "momentum"),
    (Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints" / "adagrad", "adagrad"),
]


@pytest.mark.slow
@pytest.mark.parametrize("folder, optimizer", RESUMED, ids=[o for _, o in RESUMED])
def test_the_check_from_a_checkpoint_agrees_at_every_stage_with_the_slots(
    tmp_path, folder, optimizer
):
    prefix = saved(tmp_path, folder / "tf1.py", 5)
    done = run_in_process(
        check_migration,
        folder / "tf1.py",
        folder / "keras3.py",
        "--steps",
        2,
        "--from-checkpoint",
        prefix,
        "--json",
        "-",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [s["agrees"] for s in report["stages"]] == [True] * 6
    state = report["settings"]["optimizer_state"]
    assert state["not_carried"] == []
    suffixes = {
        "adam": ("Adam", "Adam_1"),
        "rmsprop": ("RMSProp", "RMSProp_1"),
        "momentum": ("Momentum",),
        "adagrad": ("Adagrad",),
    }[optimizer]
    values = read_checkpoint(prefix)
    trained = {k.rsplit("/", 1)[0] for k in values if k.rsplit("/", 1)[-1] in suffixes}
    assert len(trained) == {"adam": 6, "rmsprop": 8, "momentum": 8, "adagrad": 3}[optimizer]
    slots = {f"{name}/{suffix}" for name in trained for suffix in suffixes}
    extra = ["beta1_power", "beta2_power", "beta1_power as 5 iterations"]
    assert sorted(state["carried"]) == sorted(slots | set(extra if optimizer == "adam" else []))


@pytest.mark.slow
def test_without_the_slots_the_check_from_a_checkpoint_fails_at_the_first_step(
    tmp_path, monkeypatch
):
    """The control: the same check with the optimizer's state left at its start."""
    from backprop_suite.migration.port import slots

    folder = GALLERY / "mlp_adam"
    prefix = saved(tmp_path, folder / "tf1.py", 5)
    monkeypatch.setattr(slots, "carry_slots", lambda *args: slots.Carried(missing=["left out"]))
    done = run_in_process(
        check_migration,
        folder / "tf1.py",
        folder / "keras3.py",
        "--steps",
        2,
        "--from-checkpoint",
        prefix,
        "--envelope",
        "off",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "disagree: stopped at the one step stage" in done.stdout
    assert "not carried: left out" in done.stdout


@pytest.mark.slow
def test_a_scripts_checkpoint_converts_with_the_script_as_the_check(tmp_path):
    script = SCRIPTS / "app_run" / "tf1.py"
    prefix = saved(tmp_path, script, 6)
    done = run_in_process(
        convert,
        prefix,
        SCRIPTS / "app_run" / "keras3.py",
        "--out",
        tmp_path / "r.keras",
        "--check",
        script,
        "--outputs",
        "output/add",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "global_step -> TF1Momentum/iteration" in done.stdout
    assert "check outputs: agrees" in done.stdout


@pytest.mark.slow
def test_bad_checkpoints_are_one_error_line_and_nothing_is_written(tmp_path):
    import tensorflow as tf

    port = GALLERY / "mlp_adam" / "keras3.py"
    out = tmp_path / "out.weights.h5"
    prefix = saved(tmp_path, GALLERY / "mlp_adam" / "tf1.py", 1)
    other = saved(tmp_path / "other", GALLERY / "seed_xor" / "tf1.py", 1)
    truncated = tmp_path / "truncated" / "model.ckpt"
    truncated.parent.mkdir()
    for source in Path(prefix).parent.glob("model.ckpt-1.*"):
        data = source.read_bytes()
        target = truncated.parent / source.name.replace("model.ckpt-1", "model.ckpt")
        target.write_bytes(data[: len(data) // 2] if ".data-" in source.name else data)
    random_bytes = tmp_path / "random.ckpt"
    (tmp_path / "random.ckpt.index").write_bytes(np.random.default_rng(0).bytes(300))
    object_based = tf.train.Checkpoint(w=tf.Variable([1.0, 2.0])).write(str(tmp_path / "tf2" / "c"))
    cases = [
        (tmp_path / "missing.ckpt", "no such checkpoint"),
        (truncated, "cannot be read as a checkpoint"),
        (random_bytes, "cannot be read as a checkpoint"),
        (other, "holds no value for TF1's ['Variable', 'Variable_1'"),
        (object_based, "is an object-based TF2 checkpoint"),
    ]
    for checkpoint, words in cases:
        done = run_in_process(convert, checkpoint, port, "--out", out)
        assert words in one_error_line(done), checkpoint
        assert not out.exists() and not list(tmp_path.glob(".out*")), checkpoint
    line = one_error_line(run_in_process(convert, prefix, port, "--out", tmp_path / "x.h5"))
    assert "Keras 3 writes FILE.weights.h5 or FILE.keras" in line
    done = run_in_process(
        check_migration, GALLERY / "mlp_adam" / "tf1.py", port, "--from-checkpoint", other
    )
    assert "it is another program's checkpoint" in one_error_line(done)


@pytest.mark.slow
def test_a_variable_that_does_not_fit_lists_both_sides(tmp_path):
    """The seed's 2-3-1 net into the 2-16-2 classifier's port, paired in the ``.meta`` file's
    creation order; without the ``.meta`` there is no order to pair in."""
    prefix = saved(tmp_path, GALLERY / "seed_xor" / "tf1.py", 1)
    port = SCRIPTS / "module_level" / "keras3.py"
    line = one_error_line(run_in_process(convert, prefix, port, "--out", tmp_path / "o.weights.h5"))
    assert "TF1: m1 [2, 3]" in line and "; port: " in line and "hidden/kernel [2, 16]" in line
    Path(prefix + ".meta").unlink()
    line = one_error_line(run_in_process(convert, prefix, port, "--out", tmp_path / "o.keras"))
    assert "no .meta file beside it" in line
