"""Script mode on TF1 scripts whose training step reads its input inside the graph
(``tests/fixtures/scripts``): a ``tf.data`` one-shot iterator, an initializable iterator fed
at its initializer, a reinitializable iterator switched between a training and a validation
set, ``slice_input_producer`` + ``shuffle_batch`` queues under a ``Coordinator``, inputs
drawn by ``tf.random_uniform`` in an ``InteractiveSession``, and a ``MonitoredTrainingSession``
with hooks. Each is recorded once; its correct port agrees and its port with one classic
mistake fails at that mistake's stage with a hint that names it, against the same record.

The batches the check recorded are checked against the scripts' own data, made again here
with NumPy: tf.data's and the queues' shuffle orders are TensorFlow's, so what is asserted is
what any real batch must satisfy (its rows are rows of the data set with their own labels,
an epoch covers the set once, a validation set never trains, the batches move on), and for
the random inputs that the recorded targets are the script's function of the recorded x."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
STEPS = 5


def checked(folder, outputs, wrong, stage, words, steps=STEPS, keep=()):
    """The folder's script recorded once for ``steps`` steps (with the untrained variables
    ``keep``, which the ports' ``WEIGHT_MAP`` compares); its ``new.py`` agrees at every stage
    and ``wrong`` fails at ``stage`` alone, with ``words`` in the hint. The record and the
    correct port's report."""
    from backprop_suite.migration import Options, check_port, run_tf1
    from backprop_suite.migration.tf1.old_program import old_program

    old = old_program(SCRIPTS / folder / "tf1.py", outputs=outputs)
    record = run_tf1(old, steps, keep=list(keep))
    assert len(record.batches) == steps
    correct = check_port(record, str(SCRIPTS / folder / "new.py"), Options(steps=steps))
    assert [s.agrees for s in correct.stages] == [True] * 6, correct.text()
    # a mistake fails far outside the tolerance: no envelope to measure
    report = check_port(
        record, str(SCRIPTS / folder / wrong), Options(steps=steps, envelope="off", layers="off")
    )
    assert [s.stage for s in report.stages if s.agrees is False] == [stage], report.text()
    for word in words:
        assert word in report.failed.hint, report.text()
    return record, correct


def derived(record) -> list[str]:
    """The batch entries the graph computed from its input (not read from a source op)."""
    return [
        name
        for name, fed in record.meta["fed"].items()
        if fed.get("source", "").startswith("computed inside the graph")
    ]


def row_indices(rows: np.ndarray, data: np.ndarray) -> list[int]:
    """Where each row of ``rows`` is in ``data`` (whose rows are distinct); a row that is not
    one of them fails."""
    where = {row.tobytes(): i for i, row in enumerate(data)}
    assert len(where) == len(data)
    found = [where.get(np.ascontiguousarray(row).tobytes()) for row in rows]
    assert None not in found, "a recorded row is not a row of the script's data"
    return found


@pytest.mark.slow
def test_a_one_shot_iterator_s_batches_are_the_data_set_s_rows_shuffled():
    record, _ = checked(
        "data_one_shot",
        "mlp/logits/BiasAdd",
        "without_from_logits.py",
        "loss",
        ["SparseCategoricalCrossentropy", "from_logits=True is missing"],
    )
    rng = np.random.RandomState(3)
    centres = rng.normal(0, 1.5, (3, 4))
    labels = rng.randint(0, 3, 600).astype(np.int64)
    features = (centres[labels] + rng.normal(0, 1, (600, 4))).astype(np.float32)
    seen = []
    for batch in record.batches:
        assert batch["IteratorGetNext"].shape == (32, 4)
        rows = row_indices(batch["IteratorGetNext"], features)
        assert np.array_equal(batch["IteratorGetNext:1"], labels[rows])
        seen += rows
    assert len(set(seen)) == len(seen) == 5 * 32  # one epoch: no row twice
    assert seen[:32] != list(range(32))  # shuffled
    assert derived(record) == []  # the graph's one_hot of the labels is the port's to compute


@pytest.mark.slow
def test_an_initializable_iterator_fed_at_its_initializer_gives_an_epoch_of_batches():
    """Four steps are the first epoch of 60 rows in batches of 16: three full and a short
    one, covering the set once. (An epoch's end, the ``OutOfRangeError`` the script catches,
    is the next test's.)"""
    record, _ = checked(
        "data_initializable",
        "layer2/add",
        "l2_left_out.py",
        "loss",
        ["without its term", "tf.nn.l2_loss of layer1/weights, layer2/weights"],
        steps=4,
    )
    train_x, train_y = initializable_data()
    assert sorted(record.meta["fed"]) == ["IteratorGetNext", "IteratorGetNext:1"]
    assert [len(b["IteratorGetNext"]) for b in record.batches] == [16, 16, 16, 12]
    rows = [i for b in record.batches for i in row_indices(b["IteratorGetNext"], train_x)]
    assert sorted(rows) == list(range(60)) and rows != list(range(60))
    targets = np.concatenate([b["IteratorGetNext:1"] for b in record.batches])
    assert np.array_equal(targets, train_y[rows])


def initializable_data():
    rng = np.random.RandomState(8)
    train_x = rng.uniform(-1, 1, (60, 3)).astype(np.float32)
    train_y = (
        np.sin(2 * train_x[:, :1])
        + train_x[:, 1:2] * train_x[:, 2:3]
        + rng.normal(0, 0.05, (60, 1))
    ).astype(np.float32)
    return train_x, train_y


@pytest.mark.slow
def test_steps_across_an_epoch_s_end_skip_the_run_that_found_the_iterator_empty():
    """The script's fifth ``sess.run(train_op)`` raises ``OutOfRangeError`` (no step is
    taken), it re-initializes the iterator and trains on; the fifth step is the second
    epoch's first batch."""
    from backprop_suite.migration import run_tf1

    record = run_tf1(str(SCRIPTS / "data_initializable" / "tf1.py"), 5)
    train_x, _ = initializable_data()
    assert len(record.batches[4]["IteratorGetNext"]) == 16
    row_indices(record.batches[4]["IteratorGetNext"], train_x)


@pytest.mark.slow
def test_a_reinitializable_iterator_trains_on_the_training_set_alone():
    """Four steps make an epoch; the script then switches the iterator to the validation set
    and evaluates (no training step: its loss is printed), and back; the fifth step is the
    next epoch's first batch. No validation row is ever a step's."""
    record, _ = checked(
        "data_reinitializable",
        "logits/BiasAdd",
        "keras_adam.py",
        "one step",
        ["epsilon=1e-7", "1e-8"],
    )
    rng = np.random.RandomState(21)
    points = rng.uniform(-1.5, 1.5, (64, 2)).astype(np.float32)
    inside = (np.hypot(points[:, 0], points[:, 1]) < 1.0).astype(np.float32)[:, None]
    valid = rng.uniform(-1.5, 1.5, (40, 2)).astype(np.float32)
    rows = [row_indices(b["IteratorGetNext"], points) for b in record.batches]
    assert sorted(sum(rows[:4], [])) == list(range(64))  # the first epoch
    assert len(set(rows[4])) == 16  # the second's first batch
    for batch, found in zip(record.batches, rows):
        assert np.array_equal(batch["IteratorGetNext:1"], inside[found])
        assert not {r.tobytes() for r in batch["IteratorGetNext"]} & {r.tobytes() for r in valid}
    assert "epoch 0: validation loss" in record.meta["printed"]


@pytest.mark.slow
def test_a_shuffle_batch_queue_s_dequeues_are_the_batches_beside_a_fed_keep_prob():
    record, _ = checked(
        "queue_shuffle_batch",
        "add_1",
        "keep_prob_as_rate.py",
        "forward",
        ["rate=0.8", "keep_prob", "rate=0.2"],
    )
    rng = np.random.RandomState(13)
    features = rng.normal(0, 1, (500, 6)).astype(np.float32)
    labels = (2 * (features[:, 0] > 0) + (features[:, 1] > 0)).astype(np.int32)
    previous = None
    for batch in record.batches:
        assert float(batch["keep_prob"]) == np.float32(0.8)  # the feed_dict's
        rows = row_indices(batch["shuffle_batch"], features)
        assert np.array_equal(batch["shuffle_batch:1"], labels[rows])
        assert previous is None or set(rows) != set(previous)
        previous = rows


@pytest.mark.slow
def test_inputs_drawn_in_the_graph_are_recorded_with_the_targets_computed_from_them():
    """The targets the check recorded are the script's function of the x it recorded,
    computed here with NumPy; x is the uniform draw scaled to [-1, 1); each step draws anew."""
    record, _ = checked(
        "random_inputs",
        "add_2",
        "keras_mse.py",
        "loss",
        ["1/64 of TF1's", "a mean over the batch where TF1 summed"],
    )
    xs = []
    for batch in record.batches:
        x, y = batch["random_uniform"], batch["add"]
        assert x.shape == (64, 2) and y.shape == (64, 1)
        assert np.array_equal(x, batch["random_uniform/RandomUniform"] * np.float32(2) - 1)
        assert (x >= -1).all() and (x < 1).all()
        expected = x[:, :1] ** 2 - x[:, :1] * x[:, 1:] + 0.5
        np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)
        xs.append(x)
    assert all(not np.array_equal(a, b) for a, b in zip(xs, xs[1:]))


@pytest.mark.slow
def test_a_monitored_training_session_with_hooks_trains_on_its_tf_data_input():
    """``while not sess.should_stop(): sess.run(train_op)`` under a ``StopAtStepHook`` and a
    ``LoggingTensorHook``; the port's optimizer iteration is compared with ``global_step``."""
    record, report = checked(
        "monitored_session",
        "dense_out/BiasAdd",
        "keras_rmsprop.py",
        "one step",
        ["RMSprop is not TF1's RMSPropOptimizer"],
        keep=["global_step"],
    )
    rng = np.random.RandomState(31)
    features = rng.normal(0, 1, (256, 8)).astype(np.float32)
    mixing = rng.normal(0, 0.5, (8, 2)).astype(np.float32)
    targets = (np.tanh(features @ mixing) + rng.normal(0, 0.02, (256, 2))).astype(np.float32)
    for batch in record.batches:
        rows = row_indices(batch["IteratorGetNext"], features)
        assert np.array_equal(batch["IteratorGetNext:1"], targets[rows])
    assert report.settings["state"] == {"global_step": "TF1RMSProp/iteration"}
