"""A user's model file for ``check_gradients.py MODEL.py``: ``model()`` returns a Keras 3 model,
``data()`` returns ``(x, y)``, and the loss is ``loss()`` where the file defines it, else the
one the model was compiled with."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from pathlib import Path

import backprop_suite
from backprop_suite.gradcheck.check import GradientMismatch, GradientReport
from backprop_suite.migration.programs import call, described, function, load_module, one_line
from backprop_suite.seeds import seeded

SUITE = Path(backprop_suite.__file__).resolve().parent


def check_model_file(path: str | Path, **options) -> GradientReport:
    """``check_model_gradients`` on what ``path`` defines. A file that does not define it, or
    whose code fails (at import, in its functions, or in its model or loss while they are
    checked: a Keras or TensorFlow error, ``sys.exit``), is a ``ValueError`` of one line naming
    the file and what failed; a ``GradientMismatch`` is the check's verdict and goes through, and
    so does a ``KeyboardInterrupt``. The global seeds its functions set, and the classes it
    registers with Keras, are put back after."""
    with seeded(), registrations_kept():
        return _checked(path, **options)


@contextlib.contextmanager
def registrations_kept() -> Iterator[None]:
    """Keras's registered custom objects as they were before, after (a user's file registers
    its layers as it is imported)."""
    import keras
    from keras.src.saving import object_registration

    objects, names = keras.saving.get_custom_objects(), object_registration.GLOBAL_CUSTOM_NAMES
    before = dict(objects), dict(names)
    try:
        yield
    finally:
        for registry, kept in zip((objects, names), before):
            registry.clear()
            registry.update(kept)


def _checked(path: str | Path, **options) -> GradientReport:
    import keras

    from backprop_suite.gradcheck.model_check import check_model_gradients

    module = load_module(path)
    model = call(function(module, "model", path), path)
    if not isinstance(model, keras.Model):
        raise ValueError(f"{path}: model() must return a keras.Model, got {type(model).__name__}")
    found = call(function(module, "data", path), path)
    if not isinstance(found, tuple | list) or len(found) != 2:
        raise ValueError(f"{path}: data() must return (x, y)")
    if callable(getattr(module, "loss", None)):
        loss = call(module.loss, path)
        if not callable(loss) and not isinstance(loss, str):
            raise ValueError(
                f"{path}: loss() must return a loss (a callable or a Keras loss's name), "
                f"got {type(loss).__name__}"
            )
    elif getattr(model, "loss", None) is not None:
        loss = model.loss
    else:
        raise ValueError(f"{path}: define loss(), or compile model() with a loss")
    try:
        return check_model_gradients(model, found[0], found[1], loss, **options)
    except GradientMismatch:
        raise
    except (Exception, SystemExit) as error:
        if isinstance(error, ValueError) and refused_by_the_suite(error):
            raise ValueError(one_line(error)) from None
        raise ValueError(f"{path}: its check failed: {described(error, path)}") from None


def refused_by_the_suite(error: ValueError) -> bool:
    """Whether the suite raised ``error`` itself, refusing what it was given (its message is
    written for the user), rather than the model's code, Keras or TensorFlow."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(SUITE)
