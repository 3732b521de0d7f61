"""``check_function_gradients`` on functions of several kinds of arguments: ``wrt`` chooses those
differentiated and the others reach the function as they were given; a gather's ``IndexedSlices``
gradient is checked as a dense one; the numeric side is evaluated eagerly or by a traced loop,
and both catch the anchors' five wrong gradients and pass the correct ones; a function that
cannot be traced falls back to eager calls; nan and inf fail, saying where. The expected
verdicts come from the rules themselves (a gather's gradient scatters its output's weights into
the rows it read; twice that is wrong), never from the checker."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import tensorflow as tf

from backprop_suite.bench.gradcheck_anchors import (
    WRONG,
    inputs,
    regression,
    tf_functions,
    tf_regression,
)
from backprop_suite.gradcheck import GradientMismatch, check_function_gradients
from backprop_suite.gradcheck.flat_loss import FlatLoss
from backprop_suite.gradcheck.function_values import forced
from backprop_suite.gradcheck.hessian import weights_of

TABLE = np.random.default_rng(0).normal(size=(5, 3))
IDS = np.array([3, 0, 3, 1], np.int32)  # row 3 twice: its gradient is the sum of two


def counted(fn):
    """``fn`` and the list of the arguments of each of its Python calls."""
    calls = []

    def wrapper(*args):
        calls.append(args)
        return fn(*args)

    wrapper.__name__ = fn.__name__ if hasattr(fn, "__name__") else "fn"
    return wrapper, calls


def test_a_gather_of_an_argument_passes_with_wrt():
    """``tape.gradient`` gives an ``IndexedSlices`` for a gather; it is checked as dense."""
    report = check_function_gradients(lambda table, ids: tf.gather(table, ids), TABLE, IDS, wrt=0)
    assert [v.name for v in report.variables] == ["argument 0"]
    assert report.variables[0].worst <= 1


@tf.custom_gradient
def doubled_gather(table, ids):
    """A gather whose ``IndexedSlices`` gradient is twice the rule's."""

    def gradient(up):
        return tf.IndexedSlices(2 * up, ids, tf.shape(table, out_type=tf.int64)), None

    return tf.gather(table, ids), gradient


@pytest.mark.parametrize("path", ["eager", "traced"])
def test_a_doubled_gather_gradient_is_caught_and_named(path):
    """The message's analytic value is twice the rule's and its numeric one the rule's: the
    gradient of Σ w · gather(table, ids) in row r is the sum of the weights of the outputs that
    read row r (zero for a row not read)."""
    with forced(path), pytest.raises(GradientMismatch) as caught:
        check_function_gradients(doubled_gather, TABLE, IDS, wrt=(0,))
    found = re.match(r"argument 0\[(\d), (\d)\]: analytic (\S+), numeric (\S+) ", str(caught.value))
    assert found, str(caught.value)
    row, column = int(found[1]), int(found[2])
    weights = weights_of((4, 3), 0)
    rule = sum(weights[j, column] for j, r in enumerate(IDS) if r == row)
    assert float(found[3]) == pytest.approx(2 * rule, rel=1e-12)
    assert float(found[4]) == pytest.approx(rule, rel=1e-8)


def test_held_arguments_reach_the_function_as_they_were_given():
    """An int32 tensor, a Python int and a string, on the analytic and the numeric side alike;
    the differentiated one comes in float64 on the numeric side."""

    def scaled(x, ids, power, mode):
        picked = tf.gather(x, ids) ** power
        return tf.reduce_sum(picked) if mode == "sum" else picked

    fn, calls = counted(scaled)
    x = np.linspace(0.5, 1.5, 5).astype(np.float32)
    report = check_function_gradients(fn, x, IDS, 3, "sum", wrt=[0])
    assert report.dtype == "float32" and len(calls) > 9
    assert all(c[1] is IDS and c[2] == 3 and c[3] == "sum" for c in calls)
    assert {c[0].dtype for c in calls[1:]} == {tf.float64}


def test_two_of_three_arguments_differentiated():
    x, y = np.array([0.3, -0.7]), np.array([1.1, 0.4])
    report = check_function_gradients(
        lambda a, n, b: tf.sin(a) * b**n, x, 2, y, wrt=(0, 2), fast=True
    )
    assert [v.name for v in report.variables] == ["argument 0", "argument 2"]


@pytest.mark.parametrize(
    ("wrt", "match"),
    [
        ((0, 3), "wrt holds 3: there are 2 arguments"),
        ((-1,), "wrt holds -1"),
        ((0, 0), "wrt names an argument twice"),
        ((), "wrt names no argument"),
        (("0",), "wrt holds '0'"),
        ((1,), "argument 1 is int32: only floats have gradients"),
    ],
)
def test_a_bad_wrt_is_refused_before_the_function_runs(wrt, match):
    fn, calls = counted(lambda table, ids: tf.gather(table, ids))
    with pytest.raises(ValueError, match=match):
        check_function_gradients(fn, TABLE, IDS, wrt=wrt)
    assert calls == []


def test_an_integer_argument_without_wrt_suggests_it():
    with pytest.raises(ValueError, match="argument 1 is int32: .*hold it fixed with wrt="):
        check_function_gradients(lambda table, ids: tf.gather(table, ids), TABLE, IDS)


FUNCTIONS = tf_functions()
NAMED = {"transposed": "argument 1"}


@pytest.mark.parametrize("path", ["eager", "traced"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_both_paths_catch_the_five_wrong_gradients_and_pass_the_right_ones(path, dtype):
    """The traced path calls the function from Python a handful of times (the analytic side,
    the point timed, the trace), the eager one at every point."""
    for case in WRONG:
        with forced(path), pytest.raises(GradientMismatch) as caught:
            check_function_gradients(FUNCTIONS[case], *inputs(case, dtype))
        assert str(caught.value).startswith(NAMED.get(case, "argument 0"))
    for seed in range(2):
        fn, calls = counted(tf_regression(seed, dtype))
        with forced(path):
            report = check_function_gradients(fn, *regression(seed, dtype))
        assert report.dtype == dtype
        assert (len(calls) <= 5) if path == "traced" else (len(calls) >= 8 * 25)


def sized_sine(v):
    """sin(v) times its size, read in Python: ``.numpy()`` fails on a traced tensor."""
    return tf.sin(v) * int(tf.size(v).numpy())


def sign_chosen(v):
    """Python control flow on a tensor's value: a traced tensor has no truth value."""
    return v * v if tf.reduce_sum(v) > 0 else -v * v


@tf.custom_gradient
def sized_sine_doubled(v):
    """``sized_sine`` with twice its derivative, n cos(v)."""
    n = int(tf.size(v).numpy())
    return tf.sin(v) * n, lambda up: 2 * n * tf.cos(v) * up


@pytest.mark.parametrize("untraceable", [sized_sine, sign_chosen])
def test_a_function_that_cannot_be_traced_falls_back_to_eager_calls(untraceable):
    fn, calls = counted(untraceable)
    x = np.array([0.2, 0.9, 1.4])
    with forced("traced"):
        check_function_gradients(fn, x)
    assert len(calls) >= 8 * x.size  # every point called eagerly
    with forced("traced"), pytest.raises(GradientMismatch, match=r"^argument 0\[\d\]: analytic"):
        check_function_gradients(sized_sine_doubled, x)


def test_an_analytic_gradient_that_is_not_finite_says_where_and_how_often():
    mask = np.zeros((4, 3), bool)
    mask[2, 1] = mask[3, 0] = mask[3, 2] = True

    @tf.custom_gradient
    def square(v):
        return v * v, lambda up: tf.where(mask, tf.constant(np.nan, v.dtype), 2 * v * up)

    with pytest.raises(GradientMismatch) as caught:
        check_function_gradients(square, np.linspace(0.5, 2, 12).reshape(4, 3))
    assert str(caught.value) == (
        "argument 0[2, 1]: the analytic gradient is not finite (nan) at 3 of 12 elements, "
        "first at [2, 1]"
    )


@pytest.mark.parametrize("path", ["eager", "traced"])
def test_a_function_not_finite_near_the_point_fails_and_says_so(path):
    """sqrt at 1e-12: every stencil, down to a step of 1e-7, reaches below 0, where it is nan.
    Such an element was a kink before, and went unjudged."""
    x = np.array([1.0, 1e-12, 2.0])
    with forced(path), pytest.raises(GradientMismatch) as caught:
        check_function_gradients(tf.sqrt, x)
    message = str(caught.value)
    assert message.startswith("argument 0[1]: the function is not finite (nan)")
    assert "1 of 3 elements" in message


def test_no_retracing_warning_when_fresh_functions_are_checked_in_a_loop(capfd):
    """TensorFlow warns at the fifth trace in ten calls of tf.functions made of one code object.
    Each check traces a loop of its own (a check calls it three times or more); a FlatLoss
    called once (a model's fast check) made it warn from the fifth in a loop, before each was
    counted on its own."""
    found = []
    handler = logging.Handler()
    handler.emit = lambda record: found.append(record.getMessage())
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        for k in range(8):
            with forced("traced"):
                check_function_gradients(lambda v, k=k: tf.sin(v) * (k + 1), np.ones(3) * 0.1 * k)
            flat = FlatLoss(lambda v: tf.reduce_sum(tf.sin(v)), [np.ones(3) * k])
            flat.shifted(0)(np.arange(3), np.full(3, 1e-3))
    finally:
        logger.removeHandler(handler)
    assert not [m for m in found if "retracing" in m]
    assert "retracing" not in capfd.readouterr().err


def standardized(x, moments: bool):
    """x minus its mean over its rows, over their standard deviation: tf.nn.moments, or the
    same written by hand."""
    if moments:
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    else:
        mean = tf.reduce_mean(x, -1, keepdims=True)
        variance = tf.reduce_mean(tf.square(x - mean), -1, keepdims=True)
    return (x - mean) / tf.sqrt(variance + 1e-3)


def test_order_2_through_tf_nn_moments_names_it_and_the_hand_written_moments_pass():
    x = np.random.default_rng(5).normal(size=(3, 4))
    check_function_gradients(lambda v: tf.sin(standardized(v, False)), x, order=2)
    with pytest.raises(GradientMismatch, match=r"stop_gradient in .*moments.*tf\.nn\.moments"):
        check_function_gradients(lambda v: tf.sin(standardized(v, True)), x, order=2)
