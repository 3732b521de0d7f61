"""The process-global state that a test, or a library call it makes, could leave changed for the
tests after it: TensorFlow's variable scope, default graph, eager mode, strategy, seed and
configuration, Keras's floatx, epsilon, dtype policy and custom objects, the environment,
``sys.path``, modules loaded from users' files, the working directory, the signal handlers and
where file descriptors 1 and 2 point. ``snapshot()`` reads it without importing anything that is
not imported yet; ``changes(before, after)`` names what differs."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from backprop_suite.seeds import KERAS_SEED, keras_seeds, tensorflow_seeds

CHECKOUT = Path(__file__).resolve().parent.parent
# the packages a test may import; a module loaded from any other file of the checkout or from
# a temporary folder is a user's program (a TF1 script, a port, a model file)
PACKAGES = tuple(
    str(CHECKOUT / name) for name in ("backprop_suite", "manual_impl", "tf_impl", "keras_impl")
)
INSTALLED = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
OURS = "backprop_suite>"  # the suite's Keras classes, registered as their module is imported
AUTOGRAPH = "__autograph_generated_file"  # tf.function's conversions of Python functions
# what TensorFlow's import sets in the environment: not a change when the test imported it first
SET_BY_TENSORFLOW = (
    "ENABLE_RUNTIME_UPTIME_TELEMETRY",
    "HDF5_PLUGIN_PATH",
    "TF2_BEHAVIOR",
    "TPU_ML_PLATFORM",
    "TPU_ML_PLATFORM_VERSION",
    "TPU_SKIP_MDS_QUERY",
)
SIGNALS = ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD", "SIGALRM", "SIGUSR1")


def tensorflow_state() -> dict[str, object]:
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "compat"):
        return {}
    scope = tf.compat.v1.get_variable_scope()
    return {
        "TensorFlow's eager execution": tf.executing_eagerly(),
        "TensorFlow's default graph": id(tf.compat.v1.get_default_graph()),
        "TensorFlow's variable scope (name, caching device, reuse)": (
            scope.name,
            repr(scope.caching_device),
            scope.reuse,
        ),
        "a tf.distribute strategy in scope": tf.distribute.has_strategy(),
        "TensorFlow's global seed (eager, default graph)": tensorflow_seeds(),
        "tf.config.functions_run_eagerly": tf.config.functions_run_eagerly(),
        "tf.config.optimizer options": tf.config.optimizer.get_experimental_options(),
        "tf.config.threading": (
            tf.config.threading.get_inter_op_parallelism_threads(),
            tf.config.threading.get_intra_op_parallelism_threads(),
        ),
        "tf.config soft device placement": tf.config.get_soft_device_placement(),
    }


def keras_state() -> dict[str, object]:
    keras = sys.modules.get("keras")
    if keras is None or not hasattr(keras, "config"):
        return {}
    return {
        "Keras floatx": keras.config.floatx(),
        "Keras epsilon": keras.config.epsilon(),
        "Keras image data format": keras.config.image_data_format(),
        "Keras dtype policy": keras.config.dtype_policy().name,
        "Keras custom objects": sorted(
            name for name in keras.saving.get_custom_objects() if not name.startswith(OURS)
        ),
        "Keras's global seed": keras_seeds()[KERAS_SEED],
    }


def users_modules() -> list[str]:
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name.startswith(AUTOGRAPH) or not path:
            continue
        if not path.startswith(INSTALLED) and not path.startswith(PACKAGES):
            if not path.startswith(str(CHECKOUT / "tests")) or "fixtures" in path:
                found.append(name)
    return sorted(found)


def environment() -> dict[str, str]:
    """``os.environ`` less the variable pytest itself changes in every phase of a test."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def descriptor(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "closed"


def snapshot() -> dict[str, object]:
    return {
        **tensorflow_state(),
        **keras_state(),
        "os.environ": environment(),
        "sys.path": list(sys.path),
        "modules loaded from users' files": users_modules(),
        "the working directory": os.getcwd(),
        "signal handlers": {
            name: repr(signal.getsignal(getattr(signal, name))) for name in SIGNALS
        },
        "file descriptors 1 and 2": (descriptor(1), descriptor(2)),
    }


def _with_tensorflows(variables: dict[str, str], after: dict[str, object]) -> dict[str, str]:
    """``variables`` and what TensorFlow's import set since."""
    set_since = {k: v for k, v in after["os.environ"].items() if k in SET_BY_TENSORFLOW}
    return {**set_since, **variables}


def changes(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """Each part of the state that differs, named, with its value before and after (only the
    keys that changed, for the environment; a state that did not exist before, such as
    TensorFlow's before its import, is not a change)."""
    found = []
    if "TensorFlow's eager execution" in after.keys() - before.keys():
        before = {**before, "os.environ": _with_tensorflows(before["os.environ"], after)}
    for part, then in before.items():
        now = after.get(part)
        if then == now:
            continue
        if isinstance(then, dict) and isinstance(now, dict):
            keys = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
            then = {k: then.get(k) for k in keys}
            now = {k: now.get(k) for k in keys}
        found.append(f"{part}: {then!r} -> {now!r}")
    return found


@pytest.fixture(autouse=True)
def process_left_as_found():
    """Fail the test after which the process's global state is not what it was before it,
    naming each part that changed; the environment, ``sys.path`` and the working directory are
    put back, so that the tests after it run as they would have."""
    before = snapshot()
    path, variables, folder = list(sys.path), environment(), os.getcwd()
    yield
    changed = changes(before, snapshot())
    sys.path[:] = path
    for name in environment().keys() - variables.keys() - set(SET_BY_TENSORFLOW):
        del os.environ[name]
    os.environ.update(variables)
    os.chdir(folder)
    if changed:
        pytest.fail("the test left the process changed: " + "; ".join(changed), pytrace=False)
