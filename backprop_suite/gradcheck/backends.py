"""The same Keras 3 model's gradients on TensorFlow, JAX and PyTorch against each other: the
model saved as ``.keras``, each backend in a child process of its own
(``backprop_suite.children.model_gradients``, each backend's autodiff by
``keras_impl.gradients``), each against TensorFlow's at that backend's measured bound
(``ACROSS_BACKENDS`` in ``backprop_suite.verify.tolerances``). Keras 3.15's PyTorch backend does
its matmul in float32 even for float64 tensors (keras-team/keras#23704), and its JAX tanh and mean
compute float64 in float32: float64 on either is held to float32's bound, and the report says
why."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from backprop_suite.core.extras import install_hint
from backprop_suite.gradcheck.check import GradientMismatch
from backprop_suite.gradcheck.child_imports import UNSAVED, needed_by
from backprop_suite.gradcheck.draws import replayed, stored
from backprop_suite.gradcheck.reference import classes_of
from backprop_suite.verify.tolerances import ACROSS_BACKENDS, difference

KNOWN = ("tensorflow", "jax", "torch")


def missing(backends: Sequence[str]) -> str | None:
    """What is wrong with ``backends``: a name outside ``KNOWN``, or one not installed; None."""
    unknown = [b for b in backends if b not in KNOWN]
    if unknown:
        return f"backends must be among {', '.join(KNOWN)}, got {', '.join(unknown)}"
    absent = [b for b in backends if importlib.util.find_spec(b) is None]
    if absent:
        hints = "; ".join(f"{b}: {install_hint(b)}" for b in absent)
        return f"{', '.join(absent)} not installed here (leave it out, or install it: {hints})"
    return None


def backend_gradients(folder: Path, backend: str, dtype: str) -> list[np.ndarray]:
    """The saved model's gradients on ``backend``, in a child process of its own."""
    from keras_impl.backends import child_environment

    out = folder / f"{backend}.npz"
    command = [sys.executable, "-m", "backprop_suite.children.model_gradients"]
    command += [str(folder / "model.keras"), str(folder / "data.npz"), str(folder / "setup.json")]
    done = subprocess.run(
        [*command, str(out)],
        env=child_environment(backend, dtype),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ValueError(f"the model's gradients on {backend} failed: {last}")
    with np.load(out) as stored:
        return [stored[f"grad/{i}"] for i in range(len(stored.files) - 2)]


def here_on_tensorflow(
    folder: Path, dtype: str, custom_objects: dict, loss: Callable
) -> list[np.ndarray]:
    """What the TensorFlow child computes, in this process (saving its start, about 3 s of
    importing TensorFlow): the saved model loaded and compiled with the loss in floatx ``dtype``
    (put back after), its gradients with the draws replayed."""
    import keras

    from keras_impl.gradients import loss_and_gradients
    from keras_impl.model import floatx

    setup = json.loads((folder / "setup.json").read_text())
    loaded = keras.saving.load_model(
        folder / "model.keras", custom_objects=custom_objects, compile=False
    )
    with np.load(folder / "data.npz") as data:
        x, y = data["x"], data["y"]
    with floatx(dtype):
        loaded.compile(loss=loss)
        with replayed(stored(folder / "draws.npz")):
            _, grads = loss_and_gradients(loaded, x, y, training=setup["training"])
    return [np.asarray(g) for g in grads]


def across_backends(
    model,
    x,
    y,
    loss: Callable,
    backends: Sequence[str],
    training: bool = False,
    draws: list[np.ndarray] | None = None,
) -> dict[str, str]:
    """Each backend's gradients against TensorFlow's, the model called with ``training`` on
    every one, drawing ``draws`` (``draws.recorded``) wherever it draws random numbers, so that
    a Dropout keeps the same units on every backend; ``GradientMismatch`` names the backend,
    the variable and the index where one is outside its bound. Returns, per backend, the
    largest difference and the bound it was held to. Each child imports the modules that
    define the model's classes and functions of the user's and the loss (``child_imports``); a
    lambda or a local function or class, which no process can import, is a ``ValueError``
    before any child starts."""
    dtype = np.dtype(model.trainable_variables[0].dtype).name
    names = [v.path for v in model.trainable_variables]
    setup = {"imports": needed_by(model, loss), "training": bool(training)}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        try:
            model.save(folder / "model.keras")
            (folder / "setup.json").write_text(json.dumps(setup))
        except Exception as error:
            raise ValueError(f"{UNSAVED}: {type(error).__name__}: {error}") from None
        np.savez(folder / "data.npz", x=np.asarray(x), y=np.asarray(y))
        np.savez(folder / "draws.npz", **{f"draw/{k}": d for k, d in enumerate(draws or [])})
        reference = here_on_tensorflow(folder, dtype, classes_of(model), loss)
        found = {}
        for backend in [b for b in backends if b != "tensorflow"]:
            tolerance, why = ACROSS_BACKENDS[(backend, dtype)]
            why = f" ({why})" if why else ""
            largest = 0.0
            for name, new, old in zip(names, backend_gradients(folder, backend, dtype), reference):
                diff = difference(new, old, tolerance)
                largest = max(largest, diff.largest)
                if not diff.agrees:
                    raise GradientMismatch(
                        f"{name}{list(diff.index)} on {backend}: {diff.new!r} against "
                        f"TensorFlow's {diff.old!r}, outside {tolerance.describe()}{why}"
                    )
            found[backend] = (
                f"largest {largest:.2g} from TensorFlow's, within {tolerance.describe()}{why}"
            )
    return found
