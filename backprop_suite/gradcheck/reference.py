"""The numeric reference's model and loss: float64 copies of the user's, float64 all the way down.

A model is copied from its serialized config with every floating dtype in it made float64: the
top level's, each nested model's and wrapped layer's (``Bidirectional``, ``TimeDistributed``,
``RNN(cell)``), each input's; sublayers a layer builds in ``__init__`` from no config of their
own take the dtype policy in force, float64 while the copy is made. The copy's variables are
paired with the model's by structure (``Layer.variables`` lists them in the order the layers
were built, whatever is frozen since), each pair checked for the same name and shape, and take
the model's values. Whatever stays float32 after that (a layer that fixes its own dtype) is a
``ValueError`` naming it and the way forward: ``reference=``, a builder of the same model in
float64.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

FLOATS = ("float16", "bfloat16", "float32", "float64")
POLICIES = ("DTypePolicy", "FloatDTypePolicy")


def in_float64(config):
    """``config`` (a serialized Keras object) with every floating dtype made float64."""
    if isinstance(config, dict):
        return {k: float64_dtype(v) if k == "dtype" else in_float64(v) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return type(config)(in_float64(v) for v in config)
    return config


def float64_dtype(value):
    if isinstance(value, str):
        return "float64" if value in FLOATS or value.startswith("mixed_") else value
    if isinstance(value, dict) and value.get("class_name") in POLICIES:
        return {**value, "config": {**value.get("config", {}), "name": "float64"}}
    return in_float64(value)


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Keras's global dtype policy ``name`` while open (float64 for the layers a layer builds
    from no config of their own), put back after."""
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def held_functions(config, names: set[str]):
    """``config`` with each callable of the user's that Keras serialized by its name under
    another class (a ``tf.custom_gradient`` activation is a ``Bind``) written as a function,
    which deserializing looks up by name."""
    if isinstance(config, dict):
        if isinstance(config.get("config"), str) and config["config"] in names:
            return {**config, "class_name": "function", "registered_name": "function"}
        return {k: held_functions(v, names) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return type(config)(held_functions(v, names) for v in config)
    return config


def classes_of(model) -> dict[str, type]:
    """The classes of the model and every layer in it, and the functions they hold (a custom
    activation), by name, with the registered custom objects: what deserializing its config
    may need."""
    import keras

    found = dict(keras.saving.get_custom_objects())
    for layer in [model, *model._flatten_layers(include_self=False)]:
        found.setdefault(type(layer).__name__, type(layer))
        for value in vars(layer).values():  # an activation function of the user's
            name = getattr(value, "__name__", None)
            if name and callable(value) and not isinstance(value, type | keras.layers.Layer):
                found.setdefault(name, value)
    return found


def rebuilt(model, x64):
    """The model from its config in float64, built."""
    import keras

    known = classes_of(model)
    config = in_float64(keras.saving.serialize_keras_object(model))
    config = held_functions(config, {k for k, v in known.items() if not isinstance(v, type)})
    config.pop("compile_config", None)  # the copy needs no compile (a loss it may not find)
    with dtype_policy("float64"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's about building our copy, not the user's model
        copy = keras.saving.deserialize_keras_object(config, custom_objects=known, safe_mode=False)
        if len(copy.variables) != len(model.variables):
            copy(x64)
    return copy


def not_float64(copy) -> list[str]:
    """What in ``copy`` is not float64: its floating variables and its layers' compute dtypes."""
    found = [
        f"{v.path} ({v.dtype})"
        for v in copy.variables
        if np.issubdtype(np.dtype(v.dtype), np.floating) and v.dtype != "float64"
    ]
    found += [
        f"{layer.name} (computes in {layer.compute_dtype})"
        for layer in [copy, *copy._flatten_layers(include_self=False)]
        if layer.compute_dtype in FLOATS and layer.compute_dtype != "float64"
    ]
    return found


def unnumbered(name: str) -> str:
    """A variable's name without the number Keras appends to an unnamed one (``variable_24``,
    ``variable_30``: the same weight, made at another point of the process)."""
    return re.sub(r"_\d+$", "", name)


WAY_FORWARD = (
    "give reference=, a function that builds the same model in float64 (under "
    "keras.config.set_dtype_policy('float64'))"
)
FIXED_DTYPE = (
    "let the layer take the dtype policy instead of fixing its own dtype, or build the whole "
    "model in float64"
)


def paired(model, copy, origin: str) -> dict[int, object]:
    """Each of the model's variables (by id) with its copy's, by structure (their order), each
    pair of the same shape and name (but for Keras's number of an unnamed one); a
    ``ValueError`` listing both sides where they do not match."""
    ours, theirs = list(model.variables), list(copy.variables)
    matches = len(ours) == len(theirs) and all(
        unnumbered(a.name) == unnumbered(b.name) and tuple(a.shape) == tuple(b.shape)
        for a, b in zip(ours, theirs)
    )
    if not matches:

        def listed(variables: list) -> str:
            return ", ".join(f"{v.path} {tuple(v.shape)}" for v in variables)

        advice = "build the same layers in the same order" if origin else WAY_FORWARD
        raise ValueError(
            f"the {origin}float64 copy of {model.name} does not have the model's variables "
            f"({advice}): the model has {listed(ours)}; the copy has {listed(theirs)}"
        )
    return {id(a): b for a, b in zip(ours, theirs)}


def first_line(error: Exception, limit: int = 200) -> str:
    """An exception as one short line: its type and the start of its first line."""
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text[:limit]}" + ("..." if len(text) > limit else "")


def float64_copy(model, x64, reference: Callable | None = None):
    """``model`` in float64 with its values, and its variables paired with the model's (by
    id): the model itself where it is float64 already; ``reference()``'s model where given; else
    rebuilt from its config. A copy that cannot be made, or is not float64 throughout, is a
    ``ValueError`` that says what to do first and then what failed."""
    if reference is None and not not_float64(model):
        return model, {id(v): v for v in model.variables}
    origin = "reference() " if reference is not None else ""
    try:
        copy = reference() if reference is not None else rebuilt(model, x64)
    except Exception as error:
        if reference is not None:
            raise ValueError(f"your reference() failed: {first_line(error)}") from error
        raise ValueError(
            f"cannot rebuild {model.name} in float64 for the numeric reference: give its "
            f"layers a get_config, or {WAY_FORWARD} ({first_line(error)})"
        ) from None
    left = not_float64(copy)
    if left:
        advice = FIXED_DTYPE if reference is not None else f"{FIXED_DTYPE}, or {WAY_FORWARD}"
        raise ValueError(
            f"the {origin}float64 copy of {model.name} still has {', '.join(left[:5])}: a "
            f"layer fixes its own dtype; {advice}"
        )
    pairs = paired(model, copy, origin)
    for variable in model.variables:
        pairs[id(variable)].assign(np.asarray(variable.numpy()).astype(pairs[id(variable)].dtype))
    return copy, pairs


def loss_in(loss: Callable, dtype: str) -> Callable:
    """A Keras ``Loss`` computes in its own dtype (floatx, float32 by default) whatever its
    inputs: the same loss in ``dtype``. A plain function computes in its inputs' dtype already,
    and is returned as it is."""
    import keras

    if isinstance(loss, keras.losses.Loss):
        return loss.__class__.from_config({**loss.get_config(), "dtype": dtype})
    return loss


def loss_in_float64(loss: Callable) -> Callable:
    """The loss for the numeric reference: ``loss_in`` float64."""
    return loss_in(loss, "float64")
