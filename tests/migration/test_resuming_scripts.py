"""A script that resumes from its own checkpoint (``tests/fixtures/scripts/resume_checkpoint``):
the check starts the port from everything the script restored (the weights, Adam's slots and
beta powers, the global step), never from a state the port did not get; where the port's
optimizer cannot take that state the check is refused; and it writes no checkpoint of the
script's."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from backprop_suite.migration import Options, check_port, run_tf1
from backprop_suite.migration.tf1.old_program import old_program
from backprop_suite.migration.tf1.save import run_save

RESUME = Path(__file__).resolve().parents[1] / "fixtures" / "scripts" / "resume_checkpoint"


@pytest.mark.slow
def test_a_resumed_script_starts_the_port_from_what_it_restored(tmp_path):
    import tensorflow as tf

    old = old_program(RESUME / "tf1.py", argv=["--checkpoint_dir", str(tmp_path)])
    prefix = run_save(old, 12, str(tmp_path / "model.ckpt-12"))
    written = sorted(p.name for p in tmp_path.iterdir())
    saved = tf.train.load_checkpoint(prefix)
    record = run_tf1(old, 4)
    assert record.meta["restored"]["checkpoint"] == prefix
    for name, value in zip(record.names, record.initial):
        assert np.array_equal(value, saved.get_tensor(name))
    for key in ("w1/Adam", "w1/Adam_1", "beta1_power", "beta2_power", "global_step"):
        assert np.array_equal(record.restored[key], saved.get_tensor(key))
    assert int(record.restored["global_step"]) == 12

    report = check_port(record, str(RESUME / "new.py"), Options(steps=4))
    assert report.agrees, report.text()
    carried = report.settings["optimizer_state"]["carried"]
    assert {"w1/Adam", "w1/Adam_1", "b2/Adam_1"} <= set(carried)
    wrong = check_port(record, str(RESUME / "rate_from_another_script.py"), Options(steps=4))
    assert wrong.failed.stage == "one step"
    ratio = re.search(r"every update is ([0-9.e-]+)x TF1's: the learning rate", wrong.failed.hint)
    assert ratio is not None and abs(float(ratio[1]) - 0.1) < 1e-5  # 0.001 against 0.01
    refused = r"restored .*model.ckpt-12 before its first training step"
    with pytest.raises(ValueError, match=refused):
        check_port(record, str(RESUME / "sgd_cannot_resume.py"), Options(steps=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == written  # the script saved nothing
