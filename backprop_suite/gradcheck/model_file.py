"""A user's model file for ``check_gradients.py MODEL.py``: ``model()`` returns a Keras 3 model,
``data()`` returns ``(x, y)``, and the loss is ``loss()`` where the file defines it, else the
one the model was compiled with."""

from __future__ import annotations

from pathlib import Path

from backprop_suite.gradcheck.check import GradientReport
from backprop_suite.migration.programs import call, function, load_module
from backprop_suite.seeds import seeded


def check_model_file(path: str | Path, **options) -> GradientReport:
    """``check_model_gradients`` on what ``path`` defines; a file that does not define it, or
    whose functions raise, is a ``ValueError`` naming the file. The global seeds its functions
    set are put back after."""
    with seeded():
        return _checked(path, **options)


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
    elif getattr(model, "loss", None) is not None:
        loss = model.loss
    else:
        raise ValueError(f"{path}: define loss(), or compile model() with a loss")
    return check_model_gradients(model, found[0], found[1], loss, **options)
