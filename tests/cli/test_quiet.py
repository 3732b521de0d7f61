"""The stderr filter drops TensorFlow's start-up lines and passes everything else on, in order."""

import os
import subprocess
import sys
import textwrap

import pytest
import script_runner

from backprop_suite import quiet
from backprop_suite.quiet import LOG_LEVEL, is_tensorflow_noise

# written by TensorFlow 2.21 on this project's CPU-only machine (seen with --verbose)
START_UP_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795903598.259022    2125 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "I0000 00:00:1795903598.315515    2125 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.",
    "E0000 00:00:1795903601.746698    2125 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    # not a start-up line: Grappler's remapper writes it at every trace of a float64 graph
    "W0000 00:00:1796616982.667117   13009 util.cc:163] Not handling type DT_DOUBLE",
    # nor this one: oneDNN at a mixed-precision model's first float16 op
    "E0000 00:00:1796627800.751696   30932 util.cc:131] oneDNN supports DT_HALF only on "
    "platforms with AVX-512. Falling back to the default Eigen-based implementation if present.",
]

REAL_LINES = [
    "error: --json out/r.json: could not write (No space left on device)",
    "E0000 00:00:1795903601.746698    2125 op_kernel.cc:1857] OP_REQUIRES failed: Incompatible "
    "shapes",
    "W0000 00:00:1795903601.746698    2125 loop_optimizer.cc:933] Skipping loop optimization",
    "Traceback (most recent call last):",
    "UserWarning: something that matters",
]


@pytest.mark.parametrize("line", START_UP_LINES)
def test_each_start_up_line_is_noise(line):
    assert is_tensorflow_noise(line.encode() + b"\n")


@pytest.mark.parametrize("line", REAL_LINES)
def test_other_lines_are_not(line):
    assert not is_tensorflow_noise(line.encode() + b"\n")


FILTERED_PROCESS = textwrap.dedent(
    """
    import os, sys, warnings
    from backprop_suite.quiet import filter_stderr
    filter_stderr()
    lines = {lines!r}
    for line in lines:
        os.write(2, (line + "\\n").encode())          # as C++ writes: straight to the descriptor
    warnings.warn("a Python warning stays visible")
    print("python's own stderr", file=sys.stderr)
    sys.stdout.write("stdout untouched\\n")
    raise SystemExit("the exit message")
    """
)


def test_a_filtered_process_keeps_real_lines_warnings_and_exit_messages_in_order():
    mixed = [line for pair in zip(START_UP_LINES, REAL_LINES) for line in pair]
    out = subprocess.run(
        [sys.executable, "-c", FILTERED_PROCESS.format(lines=mixed)],
        capture_output=True,
        text=True,
        env=script_runner.user_environment(),
    )
    lines = out.stderr.splitlines()
    assert lines[: len(REAL_LINES)] == REAL_LINES
    assert "UserWarning: a Python warning stays visible" in lines[len(REAL_LINES)]
    assert lines[-2:] == ["python's own stderr", "the exit message"]
    assert out.stdout == "stdout untouched\n" and out.returncode == 1


@pytest.mark.slow
def test_tensorflow_really_writes_them_and_verbose_shows_them():
    # the premise of the filter: without it, TensorFlow writes these lines on this machine
    verbose = script_runner.run("compare", "--impl", "tf", "--steps", "1", "--verbose")
    assert verbose.returncode == 0
    assert any(is_tensorflow_noise(line.encode()) for line in verbose.stderr.splitlines())


@pytest.mark.parametrize(
    "verbose,users_level,filtered,level",
    [(False, None, True, LOG_LEVEL), (True, None, False, None), (False, "0", False, "0")],
)
def test_the_filter_and_level_apply_unless_verbose_or_the_user_set_a_level(
    monkeypatch, verbose, users_level, filtered, level
):
    calls = []
    monkeypatch.setattr(quiet, "filter_stderr", lambda: calls.append("filter"))
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    if users_level is not None:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", users_level)
    quiet.quiet_tensorflow(verbose)
    assert calls == (["filter"] if filtered else [])
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == level


USERS_PROCESS = textwrap.dedent(
    """
    import os, sys
    before = os.readlink("/proc/self/fd/2")
    import numpy as np
    from backprop_suite.gradcheck import check_model_gradients  # the first to import TensorFlow
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])
    x, y = np.linspace(-1, 1, 12).reshape(4, 3), np.zeros((4, 2))
    check_model_gradients(model, x, y, "mse")  # its float64 copy's graphs: DT_DOUBLE warnings
    from backprop_suite import TrainConfig, init_params, load_implementation, xor_data
    from backprop_suite.migration import Options
    cfg = TrainConfig(steps=3, dtype="float64")
    for name in {names!r}:
        load_implementation(name).train(init_params(cfg), *xor_data(), cfg)
    print(os.environ.get("TF_CPP_MIN_LOG_LEVEL"), os.readlink("/proc/self/fd/2") == before)
    print("the user's own line", file=sys.stderr)
    os.write(2, b"a C++ line of the user's\\n")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("users_level", [None, "0"])
def test_the_library_keeps_tensorflows_start_up_lines_off_a_users_stderr(users_level):
    """A user's own program that checks a model's gradients with the library, then trains with
    it (float64, whose graphs TensorFlow's remapper warns about at every trace), sees none of
    TensorFlow's start-up or C++ INFO and WARNING lines, and its environment and stderr are its
    own after; a user who set the level sees what that level shows (on the TF2 port alone: the
    start-up lines come from any)."""
    names = ("tf", "keras", "tf1") if users_level is None else ("tf",)
    environment = script_runner.user_environment()
    if users_level is not None:
        environment["TF_CPP_MIN_LOG_LEVEL"] = users_level
    done = subprocess.run(
        [sys.executable, "-c", USERS_PROCESS.format(names=names)],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(users_level), "True"]
    own = ["the user's own line", "a C++ line of the user's"]
    if users_level is None:
        assert done.stderr.splitlines() == own
    else:
        assert any(is_tensorflow_noise(line.encode()) for line in done.stderr.splitlines())
        assert done.stderr.splitlines()[-2:] == own
