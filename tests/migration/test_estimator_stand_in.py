"""The migration check's ``tf.estimator`` stand-in (``backprop_suite.migration.tf1.estimator``):
the graph and the training steps of an Estimator program, measured against sources that do not
go through it: a hand-written ``tf.compat.v1.Session`` loop over the same graph, NumPy, the
variable names the real ``tf.compat.v1.estimator`` gives per its own tests
(``canned/v1/dnn_testing_utils_v1.py``, ``linear_testing_utils_v1.py``), and the check itself
on two Estimator scripts with a correct port and a wrong one.

TF1 code runs in a child process under v1 behaviour with legacy Keras, as in the check's own
child; this process is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from optional import needs
from script_runner import load

from backprop_suite.migration import Options, check_port, run_tf1
from backprop_suite.migration.processes import child_environment
from backprop_suite.migration.tf1.old_program import old_program

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
check_migration = load("check_migration")

PRELUDE = """
import json, os, sys, tempfile
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()
from backprop_suite.migration.tf1.estimator import installed

v1 = tf.compat.v1
out = {}
rng = np.random.RandomState(0)
X = rng.normal(size=(24, 3)).astype(np.float32)
Y = rng.randint(0, 3, 24).astype(np.int64)


class Losses(v1.train.SessionRunHook):
    def __init__(self, name):
        self.name, self.values = name, []

    def begin(self):
        self.tensor = v1.get_default_graph().get_tensor_by_name(self.name)

    def before_run(self, context):
        return v1.train.SessionRunArgs(self.tensor)

    def after_run(self, context, values):
        self.values.append(float(values.results))


def refusal(call):
    try:
        call()
    except NotImplementedError as error:
        return str(error)
    return None
"""

MODEL_FN = (
    PRELUDE
    + """
def build(x, labels, rate):
    hidden = v1.layers.dense(x, 5, activation=tf.nn.tanh)
    logits = v1.layers.dense(hidden, 3)
    if labels is None:
        return logits, None, None
    loss = v1.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    step = v1.train.GradientDescentOptimizer(rate).minimize(
        loss, global_step=v1.train.get_global_step())
    return logits, loss, step


with installed():
    est_api = tf.compat.v1.estimator
    out["same module"] = tf.estimator is not None and "tensorflow.estimator" in sys.modules
    import tensorflow.estimator as imported
    from tensorflow.compat.v1.estimator import inputs as imported_inputs
    out["import works"] = imported is tf.estimator and callable(imported_inputs.numpy_input_fn)
    out["hooks are TF's"] = est_api.LoggingTensorHook is v1.train.LoggingTensorHook

    def model_fn(features, labels, mode, params, config):
        out.setdefault("config model_dir", config.model_dir == folder)
        logits, loss, step = build(features["x"], labels, params["rate"])
        if mode == est_api.ModeKeys.PREDICT:
            return est_api.EstimatorSpec(mode, predictions={"probabilities": tf.nn.softmax(logits)})
        accuracy = v1.metrics.accuracy(labels=labels, predictions=tf.argmax(logits, 1))
        return est_api.EstimatorSpec(
            mode, loss=loss, train_op=step, eval_metric_ops={"accuracy": accuracy})

    folder = tempfile.mkdtemp()
    config = est_api.RunConfig(tf_random_seed=3)
    est = est_api.Estimator(model_fn, model_dir=folder, config=config, params={"rate": 0.5})
    train = est_api.inputs.numpy_input_fn({"x": X}, Y, batch_size=8, num_epochs=None, shuffle=False)
    losses = Losses("sparse_softmax_cross_entropy_loss/value:0")
    est.train(train, steps=3, hooks=[losses])
    est.train(train, steps=2, hooks=[losses])
    out["losses"] = losses.values
    out["names"] = est.get_variable_names()
    out["global_step"] = int(est.get_variable_value("global_step"))
    out["final"] = {n: est.get_variable_value(n).tolist() for n in out["names"] if "dense" in n}
    every = est_api.inputs.numpy_input_fn({"x": X}, Y, batch_size=10, num_epochs=1, shuffle=False)
    out["evaluation"] = {k: float(v) for k, v in est.evaluate(every).items()}
    features_only = est_api.inputs.numpy_input_fn({"x": X[:5]}, batch_size=2, shuffle=False)
    out["predictions"] = [p["probabilities"].tolist() for p in est.predict(features_only)]

    once = est_api.inputs.numpy_input_fn({"x": X}, Y, batch_size=10, num_epochs=1, shuffle=False)
    ends = est_api.Estimator(model_fn, model_dir=tempfile.mkdtemp(), params={"rate": 0.5})
    out["steps until the input ends"] = int(ends.train(once).get_variable_value("global_step"))
    dataset = lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(8).repeat()
    out["steps from a dataset"] = int(
        ends.train(dataset, steps=2).get_variable_value("global_step"))
    out["max_steps already reached"] = int(
        ends.train(dataset, max_steps=4).get_variable_value("global_step"))

    def run_input(input_fn, seed=None):
        with tf.Graph().as_default():
            v1.set_random_seed(seed)
            tensors = input_fn()
            found = []
            with v1.Session() as sess:
                try:
                    while len(found) < 12:
                        found.append(sess.run(tensors))
                except tf.errors.OutOfRangeError:
                    pass
            return found

    arrays = run_input(est_api.inputs.numpy_input_fn(
        X[:10], Y[:10], batch_size=4, num_epochs=1, shuffle=False))
    out["batch sizes, one epoch"] = [len(f) for f, _ in arrays]
    out["array in, tensor out"] = all(isinstance(f, np.ndarray) for f, _ in arrays)
    forever = run_input(est_api.inputs.numpy_input_fn(
        {"x": X[:10]}, Y[:10], batch_size=4, num_epochs=None, shuffle=False))
    out["third batch, forever"] = forever[2][1].tolist()
    shuffled = [run_input(est_api.inputs.numpy_input_fn(
        {"x": X[:10]}, Y[:10], batch_size=10, num_epochs=1, shuffle=True), seed=5)
        for _ in range(2)]
    out["shuffled the same twice"] = all(
        np.array_equal(a[0]["x"], b[0]["x"]) for a, b in zip(*shuffled))
    out["shuffled rows"] = shuffled[0][0][0]["x"].tolist()
    try:
        est_api.inputs.numpy_input_fn({"x": X}, Y)
    except ValueError as error:
        out["shuffle required"] = str(error)

    class Column:
        def __init__(self, values, index):
            self.values, self.index = np.asarray(values), index

        def __array__(self, dtype=None, copy=None):
            return self.values

    class Frame:
        def __init__(self, columns, index):
            self.data, self.index = columns, index
            self.columns = list(columns)

        def __getitem__(self, name):
            return Column(self.data[name], self.index)

    index = np.arange(6)
    frame = Frame({"a": np.arange(6.0), "b": np.arange(6) * 10}, index)
    target = Column(np.arange(6) % 2, index)
    pandas = run_input(est_api.inputs.pandas_input_fn(
        frame, target, batch_size=4, num_epochs=1, shuffle=False))
    out["pandas"] = [
        [sorted(f), f["a"].tolist(), f["b"].tolist(), t.tolist()] for f, t in pandas]
    labels_frame = Frame({"a": np.arange(6) % 3}, index)
    named = run_input(est_api.inputs.pandas_input_fn(
        frame, labels_frame, batch_size=6, num_epochs=1, shuffle=False))
    out["pandas labels frame"] = {k: v.tolist() for k, v in named[0][1].items()}

    spec_errors = []
    with tf.Graph().as_default():
        constant = tf.constant(1.0)
        for mode, kwargs in [
            ("train", {"loss": constant}),
            ("eval", {}),
            ("infer", {}),
            ("eval", {"loss": tf.constant([1.0, 2.0])}),
        ]:
            try:
                est_api.EstimatorSpec(mode, **kwargs)
            except ValueError as error:
                spec_errors.append(str(error).splitlines()[0])
        with tf.Graph().as_default():
            elsewhere = tf.constant(2.0)
        try:
            est_api.EstimatorSpec("eval", loss=elsewhere)
        except ValueError as error:
            spec_errors.append(str(error).splitlines()[0])
        spec = est_api.EstimatorSpec("eval", loss=tf.constant([3.0]))
        out["loss of shape [1] made a scalar"] = spec.loss.shape.as_list()
    out["spec errors"] = spec_errors
    model_fn_errors = []
    for fn, params in [
        (lambda features, labels, mode: None, {"a": 1}),
        (lambda features, labels, other: None, None),
        (lambda inputs: None, None),
    ]:
        try:
            est_api.Estimator(fn, model_dir=folder, params=params)
        except ValueError as error:
            model_fn_errors.append(str(error).split(") ", 1)[1])
    out["model_fn errors"] = model_fn_errors

    out["refusals"] = [
        refusal(lambda: est_api.DNNLinearCombinedClassifier),
        refusal(lambda: est_api.experimental.stop_if_no_decrease_hook),
        refusal(lambda: est.export_saved_model("export", None)),
        refusal(lambda: est_api.RunConfig(train_distribute=object())),
        refusal(lambda: est_api.export.build_raw_serving_input_receiver_fn({})()),
    ]
    out["unknown name"] = not hasattr(est_api, "no_such_name")

    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, [None, 3])
        y = v1.placeholder(tf.int64, [None])
        v1.train.get_or_create_global_step()
        logits, loss, step = build(x, y, 0.5)
        probabilities = tf.nn.softmax(logits)
        names = {v.op.name: v for v in v1.global_variables()}
        with v1.Session() as sess:
            v1.train.Saver().restore(sess, os.path.join(folder, "model.ckpt-0"))
            hand = []
            for start in [0, 8, 16, 0, 8]:
                rows = slice(start, start + 8)
                hand.append(float(sess.run([step, loss], {x: X[rows], y: Y[rows]})[1]))
            out["hand losses"] = hand
            out["hand final"] = {n: sess.run(names[n]).tolist() for n in out["final"]}
            batch_losses = [
                sess.run(loss, {x: X[s : s + 10], y: Y[s : s + 10]}) for s in (0, 10, 20)]
            out["hand evaluation loss"] = float(np.mean(batch_losses))
            out["hand accuracy"] = float(np.mean(sess.run(logits, {x: X}).argmax(1) == Y))
            out["hand predictions"] = sess.run(probabilities, {x: X[:5]}).tolist()

out["after"] = [
    hasattr(tf, "estimator"),
    hasattr(tf.compat.v1, "estimator"),
    "estimator" in tf.compat.v1.__all__,
    sorted(k for k in sys.modules if k.startswith("tensorflow") and "estimator" in k),
]
print("RESULT " + json.dumps(out))
"""
)

CANNED = (
    PRELUDE
    + """
def batch_sums(logits, labels):
    shifted = logits - logits.max(1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return float(-log_softmax[np.arange(len(labels)), labels].sum())


with installed():
    est_api = tf.compat.v1.estimator
    columns = [tf.feature_column.numeric_column("x", shape=[3])]
    train = est_api.inputs.numpy_input_fn({"x": X}, Y, batch_size=8, num_epochs=None, shuffle=False)
    config = est_api.RunConfig(tf_random_seed=1)

    dnn = est_api.DNNClassifier([4, 3], columns, n_classes=3, config=config,
                                model_dir=tempfile.mkdtemp())
    losses = Losses("dnn/head/weighted_loss/Sum:0")
    dnn.train(train, steps=1, hooks=[losses])
    out["dnn names"] = dnn.get_variable_names()
    start = v1.train.load_checkpoint(os.path.join(dnn.model_dir, "model.ckpt-0"))
    weight = lambda name: start.get_tensor(f"dnn/{name}")
    net = X[:8]
    for layer in ("hiddenlayer_0", "hiddenlayer_1"):
        net = np.maximum(net @ weight(f"{layer}/kernel") + weight(f"{layer}/bias"), 0)
    logits = net @ weight("logits/kernel") + weight("logits/bias")
    out["dnn first loss"] = [losses.values[0], batch_sums(logits, Y[:8])]
    with tf.Graph().as_default():
        features = {"x": v1.placeholder(tf.float32, [None, 3])}
        v1.train.get_or_create_global_step()
        dnn.model_fn(features, v1.placeholder(tf.int64, [None]), "train", dnn.config)
        out["dnn graph names"] = [v.name for v in v1.trainable_variables()]
    everything = est_api.inputs.numpy_input_fn({"x": X}, Y, batch_size=24, shuffle=False)
    evaluation = dnn.evaluate(everything)
    out["dnn evaluation"] = {k: float(v) for k, v in evaluation.items()}
    prediction = next(dnn.predict(est_api.inputs.numpy_input_fn({"x": X}, shuffle=False)))
    out["dnn prediction keys"] = sorted(prediction)

    targets = X.sum(1, keepdims=True)
    regression = est_api.inputs.numpy_input_fn(
        {"x": X}, targets, batch_size=8, num_epochs=None, shuffle=False)
    regressor = est_api.DNNRegressor([4], columns, config=config, model_dir=tempfile.mkdtemp())
    losses = Losses("dnn/head/weighted_loss/Sum:0")
    regressor.train(regression, steps=1, hooks=[losses])
    start = v1.train.load_checkpoint(os.path.join(regressor.model_dir, "model.ckpt-0"))
    hidden = np.maximum(
        X[:8] @ start.get_tensor("dnn/hiddenlayer_0/kernel")
        + start.get_tensor("dnn/hiddenlayer_0/bias"), 0)
    predicted = hidden @ start.get_tensor("dnn/logits/kernel") + start.get_tensor("dnn/logits/bias")
    out["regressor first loss"] = [losses.values[0], float(((predicted - targets[:8]) ** 2).sum())]

    binary = est_api.inputs.numpy_input_fn(
        {"x": X}, Y % 2, batch_size=8, num_epochs=None, shuffle=False)
    linear = est_api.LinearClassifier(columns, config=config, model_dir=tempfile.mkdtemp())
    losses = Losses("linear/head/weighted_loss/Sum:0")
    linear.train(binary, steps=1, hooks=[losses])
    out["linear names"] = linear.get_variable_names()
    out["linear first loss"] = [losses.values[0], 8 * float(np.log(2.0))]

    run_config = est_api.RunConfig(tf_random_seed=1, save_checkpoints_steps=2)
    both = est_api.LinearRegressor(columns, config=run_config, model_dir=tempfile.mkdtemp())
    metrics, exports = est_api.train_and_evaluate(
        both,
        est_api.TrainSpec(regression, max_steps=4),
        est_api.EvalSpec(
            est_api.inputs.numpy_input_fn({"x": X}, targets, shuffle=False),
            steps=None,
            throttle_secs=0,
        ),
    )
    out["train_and_evaluate"] = [sorted(metrics), int(metrics["global_step"]), exports]
    out["evaluations written"] = sorted(os.listdir(os.path.join(both.model_dir, "eval")))[:1]
print("RESULT " + json.dumps(out))
"""
)


def run_children(*programs: str) -> list[dict]:
    """Each program's ``RESULT`` in one child process (TensorFlow imported once), each program
    in globals of its own."""
    joined = "\n".join(f"exec({program!r}, {{'__name__': '__main__'}})" for program in programs)
    done = subprocess.run(
        [sys.executable, "-c", joined], capture_output=True, text=True, env=child_environment()
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and len(lines) == len(programs), (
        done.stdout[-3000:] + done.stderr[-5000:]
    )
    return [json.loads(line[len("RESULT ") :]) for line in lines]


@needs("tf_keras")
def test_model_fn_and_canned_estimators_against_a_hand_written_loop_and_numpy():
    """Both programs below in one child process: ``model_fn_holds`` and ``canned_holds``."""
    model_fn, canned = run_children(MODEL_FN, CANNED)
    model_fn_holds(model_fn)
    canned_holds(canned)


def model_fn_holds(out: dict) -> None:
    """Five steps in two ``train`` calls (the second resumes from the first's checkpoint and
    starts its input again) lose what a ``Session`` loop over the same graph, from the weights
    saved before the first step, loses on the same rows, bit for bit; the evaluation's loss is
    the mean of its batches' losses, and the inputs, the spec's checks and the refusals are the
    real API's. Leaving ``installed()`` takes everything back."""
    assert out["same module"] and out["import works"] and out["hooks are TF's"]
    assert out["config model_dir"]
    assert out["losses"] == out["hand losses"]
    assert out["names"] == [
        "dense/bias",
        "dense/kernel",
        "dense_1/bias",
        "dense_1/kernel",
        "global_step",
    ]
    assert out["global_step"] == 5
    for name, value in out["final"].items():
        np.testing.assert_array_equal(value, out["hand final"][name], err_msg=name)
    evaluation = out["evaluation"]
    assert sorted(evaluation) == ["accuracy", "global_step", "loss"]
    assert evaluation["global_step"] == 5
    np.testing.assert_allclose(evaluation["loss"], out["hand evaluation loss"], rtol=1e-6)
    assert evaluation["accuracy"] == pytest.approx(out["hand accuracy"])
    np.testing.assert_allclose(out["predictions"], out["hand predictions"], rtol=1e-6)

    assert out["steps until the input ends"] == 3  # 24 rows in batches of 10: 10, 10, 4
    assert out["steps from a dataset"] == 5 and out["max_steps already reached"] == 5
    assert out["batch sizes, one epoch"] == [4, 4, 2] and out["array in, tensor out"]
    rng = np.random.RandomState(0)
    rng.normal(size=(24, 3))
    labels = rng.randint(0, 3, 24)
    assert out["third batch, forever"] == labels[[8, 9, 0, 1]].tolist()
    assert out["shuffled the same twice"]
    rows = np.array(out["shuffled rows"])
    assert sorted(map(tuple, rows)) != list(map(tuple, rows))  # shuffled, but the same rows
    assert out["shuffle required"].startswith("shuffle must be provided and explicitly set")
    assert out["pandas"] == [
        [["a", "b"], [0.0, 1.0, 2.0, 3.0], [0, 10, 20, 30], [0, 1, 0, 1]],
        [["a", "b"], [4.0, 5.0], [40, 50], [0, 1]],
    ]
    assert out["pandas labels frame"] == {"a": [0, 1, 2, 0, 1, 2]}

    assert out["spec errors"] == [
        "Missing train_op.",
        "Missing loss.",
        "Missing predictions.",
        'Loss must be scalar, given: Tensor("Const_1:0", shape=(2,), dtype=float32)',
        'loss with "Const:0" must be from the default graph. Possible causes of this error '
        "include: ",
    ]
    assert out["loss of shape [1] made a scalar"] == []
    assert out["model_fn errors"] == [
        "does not include params argument, but params ({'a': 1}) is passed to Estimator.",
        "has following not expected args: ['other']",
        "must include features argument.",
    ]
    for line in out["refusals"]:
        assert line and "\n" not in line
        assert line.endswith("the migration check's Estimator stand-in does not cover it") or (
            "stand-in does not cover it (" in line
        )
    assert out["refusals"][0].startswith("tf.compat.v1.estimator.DNNLinearCombinedClassifier:")
    assert out["refusals"][1].startswith("tf.compat.v1.estimator.experimental.stop_if_no_")
    assert out["refusals"][2].startswith("Estimator.export_saved_model:")
    assert out["refusals"][3].startswith("RunConfig(train_distribute=...):")
    assert out["unknown name"]
    assert out["after"] == [False, False, False, []]


# the real v1 canned estimators' names: the model's from their tests in tensorflow/estimator
# (canned/v1/dnn_testing_utils_v1.py, canned/v1/linear_testing_utils_v1.py), a checkpoint's keys
# and, in the graph, the one part of a partitioned variable; the optimizer's slots as TF 1.x's
# get_variable_names() printed them in the tutorials of the day (the head's optimizer runs in the
# model's variable scope, which TF's slot naming cuts into "t_0/Adagrad" and "part_0/Ftrl")
DNN = ["dnn/hiddenlayer_0", "dnn/hiddenlayer_1", "dnn/logits"]
DNN_NAMES = [f"{layer}/{kind}" for layer in DNN for kind in ("kernel", "bias")]


def canned_holds(out: dict) -> None:
    """``DNNClassifier``, ``DNNRegressor`` and ``LinearClassifier``: the real ones' variable
    names (the checkpoint's, and ``/part_0`` in the graph), their default optimizers' slots
    (Adagrad, Ftrl), the first step's loss summed over the batch as NumPy sums it from the
    weights saved before that step; ``train_and_evaluate`` evaluates after the checkpoints."""
    slots = [f"{name}/t_0/Adagrad" for name in DNN_NAMES]
    assert out["dnn names"] == sorted(DNN_NAMES + slots + ["global_step"])
    assert out["dnn graph names"] == [f"{name}/part_0:0" for name in DNN_NAMES]
    np.testing.assert_allclose(*out["dnn first loss"], rtol=1e-5)
    evaluation = out["dnn evaluation"]
    assert {"accuracy", "average_loss", "loss", "global_step"} <= set(evaluation)
    assert evaluation["loss"] == pytest.approx(24 * evaluation["average_loss"], rel=1e-5)
    assert out["dnn prediction keys"] == [
        "all_class_ids",
        "all_classes",
        "class_ids",
        "classes",
        "logits",
        "probabilities",
    ]
    np.testing.assert_allclose(*out["regressor first loss"], rtol=1e-5)
    weights = ["linear/linear_model/bias_weights", "linear/linear_model/x/weights"]
    ftrl = [f"{name}/part_0/{slot}" for name in weights for slot in ("Ftrl", "Ftrl_1")]
    assert out["linear names"] == sorted(weights + ftrl + ["global_step"])
    np.testing.assert_allclose(*out["linear first loss"], rtol=1e-6)
    keys, step, exports = out["train_and_evaluate"]
    assert keys == ["average_loss", "global_step", "label/mean", "loss", "prediction/mean"]
    assert step == 4 and exports == []
    assert out["evaluations written"][0].startswith("events.out.tfevents")


# (script folder, its output tensor, the wrong port, the stage that fails)
KINDS = [
    ("estimator_model_fn", "dense_1/BiasAdd", "keras3_probabilities.py", "loss"),
    ("estimator_canned", "dnn/logits/BiasAdd", "keras3_mean_loss.py", "loss"),
]


@pytest.mark.slow
@needs("tf_keras")
@pytest.mark.parametrize("folder, outputs, wrong, stage", KINDS)
def test_an_estimator_script_agrees_with_its_port_and_a_wrong_port_fails_at_its_stage(
    folder, outputs, wrong, stage
):
    """The check runs each Estimator script unmodified: its steps are the Estimator's
    ``Session.run`` of the train op, its batches what ``numpy_input_fn``'s iterator gave."""
    record = run_tf1(old_program(SCRIPTS / folder / "tf1.py", outputs=outputs), 3)
    report = check_port(record, str(SCRIPTS / folder / "keras3.py"), Options(steps=3))
    assert report.agrees, report.text()
    # a mistake fails far outside the tolerance: no envelope to measure
    wrong = check_port(
        record, str(SCRIPTS / folder / wrong), Options(steps=3, envelope="off", layers="off")
    )
    assert [s.stage for s in wrong.stages if s.agrees is False] == [stage], wrong.text()
