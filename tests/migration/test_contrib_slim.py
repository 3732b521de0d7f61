"""``tf.contrib`` in a TF1 script, through ``tf_slim`` (``migration/tf1/contrib.py``): the slim
classifier of ``tests/fixtures/scripts/slim_arg_scope`` checked unmodified against its port and
against a port that leaves the logits layer's weight decay out; every way a TF1 script reached
``tf.contrib.slim``, ``.layers`` and ``.framework``; a contrib module that tf_slim does not
cover, and tf_slim missing, each one line; and the process as it was after ``installed()``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from script_runner import load, one_error_line, run_in_process

from backprop_suite.migration import Options, check_port, run_tf1
from backprop_suite.migration.tf1.old_program import old_program

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "scripts" / "slim_arg_scope"
check_migration = load("check_migration")
NO_CONTRIB = "TensorFlow 2 has no tf.contrib"


@pytest.mark.slow
def test_the_slim_script_agrees_with_its_port_and_the_unregularized_logits_fail_at_the_loss():
    """The arg_scope's weight decay reaches the logits layer too: a port without it is short of
    exactly that term of ``slim.losses.get_total_loss()``, and the hint names it."""
    record = run_tf1(old_program(FOLDER / "tf1.py", outputs="logits/BiasAdd"), 4)
    report = check_port(record, str(FOLDER / "keras3.py"), Options(steps=4))
    assert [s.agrees for s in report.stages] == [True] * 6, report.text()
    # a mistake fails far outside the tolerance: no envelope to measure
    unregularized = str(FOLDER / "keras3_logits_unregularized.py")
    wrong = check_port(record, unregularized, Options(steps=4, envelope="off", layers="off"))
    failed = [s for s in wrong.stages if s.agrees is False]
    assert [s.stage for s in failed] == ["loss"]
    hint = failed[0].hint
    assert "without its term logits/" in hint and "tf.nn.l2_loss of logits/weights" in hint


IMPORT_FORMS = """
import numpy as np
import tensorflow as tf
import tensorflow.contrib.slim as slim
from tensorflow.contrib import slim as slim_again
from tensorflow.contrib.framework import arg_scope
from tensorflow.contrib.layers import xavier_initializer

assert slim is slim_again is tf.contrib.slim and arg_scope is slim.arg_scope
x = tf.placeholder(tf.float32, [None, 3], name="x")
with arg_scope([slim.fully_connected], weights_initializer=xavier_initializer()):
    hidden = tf.contrib.layers.fully_connected(x, 4)
    out = slim.fully_connected(hidden, 1, activation_fn=None)
loss = tf.reduce_mean(tf.square(out - 1.0))
step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step, {x: np.ones((2, 3))})
"""


@pytest.mark.slow
def test_each_way_a_script_reached_contrib_gives_tf_slim_and_contribs_variable_names(tmp_path):
    """The import statements and ``tf.contrib`` on the ``tf`` the script got give one and the
    same ``slim``; the variables have the names contrib gave them."""
    script = tmp_path / "forms.py"
    script.write_text(IMPORT_FORMS)
    done = run_in_process(check_migration, script, "--list")
    assert done.returncode == 0, done.stderr
    trained = done.stdout.split("trained (")[1].split("\n", 1)[1].split("what the loss")[0]
    assert [line.split()[0] for line in trained.splitlines()] == [
        "fully_connected/weights",
        "fully_connected/biases",
        "fully_connected_1/weights",
        "fully_connected_1/biases",
    ]


RNN = "port it to tf.nn.rnn_cell (BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, DropoutWrapper)"


@pytest.mark.slow
@pytest.mark.parametrize(
    "source, words",
    [
        (
            "cell = tf.contrib.rnn.LSTMCell(4)",
            f"ImportError: tf.contrib.rnn: {NO_CONTRIB}, and tf_slim has no equivalent of this "
            f"module; {RNN} (line 3 of script.py)",
        ),
        (
            "from tensorflow.contrib import seq2seq",
            f"ImportError: tf.contrib.seq2seq: {NO_CONTRIB}, and tf_slim has no "
            "equivalent of this module; port it to TensorFlow 2's own API (line 3 of script.py)",
        ),
        (
            "from tensorflow.contrib.layers import embed_sequence",
            f"ImportError: tf.contrib.layers.embed_sequence: {NO_CONTRIB}, and tf_slim has no "
            "equivalent of it; port it to TensorFlow 2's own API (line 3 of script.py)",
        ),
    ],
)
def test_what_tf_slim_does_not_cover_is_one_line_naming_it(tmp_path, source, words):
    script = tmp_path / "script.py"
    script.write_text(f"import tensorflow as tf\n\n{source}\n")
    line = one_error_line(run_in_process(check_migration, script, "--list"))
    assert line.endswith(f"script.py raised before its first training step: {words}"), line


def test_installed_puts_back_what_it_found_and_without_tf_slim_says_how_to_install_it(
    monkeypatch,
):
    """In this process, without building a graph: tf_slim is not imported (``None`` in
    ``sys.modules`` makes its import fail), so nothing of it stays either."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.contrib import installed

    monkeypatch.setitem(sys.modules, "tf_slim", None)
    found = (set(sys.modules), list(sys.meta_path), list(tf.compat.v1.__all__))
    with installed():
        assert tf.contrib is tf.compat.v1.contrib is sys.modules["tensorflow.contrib"]
        for reach in (
            lambda: tf.compat.v1.contrib.layers,
            lambda: __import__("tensorflow.contrib.slim"),
        ):
            with pytest.raises(ImportError) as raised:
                reach()
            assert str(raised.value).endswith(
                f"{NO_CONTRIB}, and tf-slim, which runs its layers, slim and framework code as "
                "TF 1.x did, is not installed: pip install tf-slim"
            )
        with pytest.raises(ImportError, match="^tf.contrib.rnn: "):
            __import__("tensorflow.contrib.rnn")
    assert not hasattr(tf, "contrib") and not hasattr(tf.compat.v1, "contrib")
    assert (set(sys.modules), list(sys.meta_path), list(tf.compat.v1.__all__)) == found
