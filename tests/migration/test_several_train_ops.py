"""Scripts with several train ops (``tests/fixtures/scripts``): a GAN that trains its
discriminator and then its generator in two ``Session.run``s, checked over the alternation with a
port that gives one train step per op; and two nets trained side by side in one ``Session.run``,
one of them chosen with ``--train-op`` while the other runs as the script runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backprop_suite.migration import Options, check_port, run_tf1
from backprop_suite.migration.tf1.old_program import old_program

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
GAN = SCRIPTS / "gan_alternation"
TWO = SCRIPTS / "two_nets_one_run"


@pytest.mark.slow
def test_a_gan_is_checked_over_its_alternation_and_a_generator_step_without_var_list_fails():
    record = run_tf1(old_program(GAN / "tf1.py", outputs="generator/add_1"), 6)
    assert record.meta["kinds"] == [0, 1, 0, 1, 0, 1]  # the script's D step, then its G step
    assert [t["loss"] for t in record.meta["turns"]] == ["Mean:0", "Mean_1:0"]
    nets = ("discriminator", "generator")
    assert record.names == [f"{net}/{n}" for net in nets for n in ("w1", "b1", "w2", "b2")]
    # each step moves its own net alone, as each optimizer's var_list says
    for step, kind in enumerate(record.meta["kinds"]):
        before = record.initial if step == 0 else record.after[step - 1]
        moved = {
            name.split("/")[0]
            for name, a, b in zip(record.names, before, record.after[step])
            if not np.array_equal(a, b)
        }
        assert moved == {nets[kind]}
    report = check_port(record, str(GAN / "new.py"), Options(steps=6))
    assert report.agrees, report.text()
    without = str(GAN / "generator_step_without_var_list.py")
    wrong = check_port(record, without, Options(steps=6, envelope="off", layers="off"))
    assert wrong.failed.stage == "many steps"
    assert "step 2" in wrong.failed.where
    assert "discriminator/w1" in wrong.failed.hint and "var_list" in wrong.failed.hint


@pytest.mark.slow
def test_a_port_with_one_train_step_for_a_gan_is_refused_naming_both_train_ops():
    record = run_tf1(old_program(GAN / "tf1.py"), 2)
    with pytest.raises(ValueError, match=r"trains 2 train ops in turn: 'Adam' .*'Adam_1'"):
        check_port(record, str(TWO / "plain.py"), Options(steps=2))


@pytest.mark.slow
def test_one_of_two_nets_in_one_run_is_chosen_and_the_other_trains_as_the_script_trains_it():
    old = old_program(TWO / "tf1.py", train_op="train_plain", outputs="plain/out/BiasAdd")
    record = run_tf1(old, 4)
    assert record.names == [
        f"plain/{layer}/{v}" for layer in ("hidden", "out") for v in ("kernel", "bias")
    ]
    # the batch-norm net is trained too, as the script trains it, and is not compared as a weight
    assert "bn/out/kernel" in record.state_names
    index = record.state_names.index("bn/out/kernel")
    assert not np.array_equal(record.state_initial[index], record.state_after[-1][index])
    why = record.meta["untrained"]["bn/out/kernel"]
    assert "var_list" in why and "'train_bn'" in why
    assert check_port(record, str(TWO / "plain.py"), Options(steps=4)).agrees
    wrong = check_port(
        record, str(TWO / "plain_keras_adam.py"), Options(steps=4, envelope="off", layers="off")
    )
    assert wrong.failed.stage == "one step" and "epsilon" in wrong.failed.hint
