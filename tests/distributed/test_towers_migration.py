"""The migration check on the gallery's data-parallel program, towers (two replicas on logical
CPUs, which only this folder splits): its ports agree, its wrong port fails at the first step,
by many envelopes (the expectations: tests/gallery.py)."""

import pytest
from gallery import check_first_step_mistake, check_gallery_program


@pytest.mark.slow
def test_the_towers_ports_agree_and_its_wrong_port_fails_where_expected():
    check_gallery_program("towers")


@pytest.mark.slow
def test_the_towers_mistake_at_the_first_step_is_outside_many_envelopes():
    check_first_step_mistake("towers", "towers_replica_mean")


@pytest.mark.slow
def test_the_towers_checkpoint_converts_and_gives_tf1s_outputs(tmp_path):
    """The gallery's checkpoint conversion (tests/migration/test_checkpoints.py) for the one
    program whose port needs this folder's two logical CPUs."""
    import json

    from gallery import GALLERY
    from script_runner import load, run_in_process

    from backprop_suite.migration.tf1.old_program import old_program
    from backprop_suite.migration.tf1.save import run_save

    old = GALLERY / "towers" / "tf1.py"
    prefix = run_save(old_program(old), 3, str(tmp_path / "ckpt" / "model.ckpt-3"))
    done = run_in_process(
        load("convert_checkpoint"),
        prefix,
        GALLERY / "towers" / "keras3.py",
        "--out",
        tmp_path / "towers.weights.h5",
        "--check",
        old,
        "--json",
        "-",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert found["outputs"]["agrees"] and found["loss"]["agrees"]
