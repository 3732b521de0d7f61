"""The random numbers a Keras model draws in training mode (Dropout, GaussianNoise, any layer that
draws through ``keras.random``), recorded where the analytic gradients are taken and replayed
wherever the loss is evaluated again: the float64 reference at every stencil point, and the
other backends. Without it each side draws its own: the analytic call moves the layer's seed
generator, a float64 copy has generators of its own, a float64 uniform from the same seed is
another number than a float32 one, and JAX and PyTorch draw with other generators.

Both take the place of the active backend's random functions (``keras.src.backend.random``,
through which every Keras layer and ``keras.random`` draws) for as long as they are open, and
put them back after. A draw made with TensorFlow's own ``tf.random`` is not seen: the sanity
check of ``model_check`` (the reference's loss against the model's) refuses such a model.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

VALUE_DRAWS = (
    "normal",
    "uniform",
    "truncated_normal",
    "randint",
    "categorical",
    "gamma",
    "binomial",
    "beta",
)


def backend_random():
    """The active backend's random module, the one Keras's layers draw through."""
    from keras.src import backend

    return backend.random


def kept(inputs, keep, rate: float):
    """Dropout with the keep mask given: the kept elements scaled by 1 / (1 − rate)."""
    from keras import ops

    return ops.where(keep, inputs / (1.0 - rate), ops.zeros_like(inputs))


def noise_shape_of(inputs, noise_shape) -> tuple[int, ...]:
    shape = tuple(inputs.shape)
    if noise_shape is None:
        return shape
    return tuple(s if n is None else n for s, n in zip(shape, noise_shape))


@contextmanager
def swapped(replacements: dict[str, Callable]) -> Iterator[None]:
    module = backend_random()
    real = {name: getattr(module, name) for name in replacements}
    try:
        for name, function in replacements.items():
            setattr(module, name, function)
        yield
    finally:
        for name, function in real.items():
            setattr(module, name, function)


def as_array(value) -> np.ndarray:
    from keras import ops

    try:
        return np.asarray(ops.convert_to_numpy(value))
    except Exception as error:
        raise ValueError(
            "a random draw inside a traced function cannot be recorded: call the model "
            f"eagerly, or check it with training=False ({type(error).__name__}: {error})"
        ) from None


def known(shape) -> bool:
    """Whether ``shape`` is all numbers (not ``None``, not a traced dimension)."""
    return shape is not None and all(isinstance(s, int | np.integer) for s in shape)


@contextmanager
def recorded() -> Iterator[list[np.ndarray]]:
    """Every draw made while open, in order, appended to the list it yields: a value draw as
    drawn, a dropout as its keep mask (bool)."""
    module = backend_random()
    real = {name: getattr(module, name) for name in (*VALUE_DRAWS, "dropout")}
    found: list[np.ndarray] = []

    def drawing(name: str) -> Callable:
        def draw(*args, **kwargs):
            value = real[name](*args, **kwargs)
            found.append(as_array(value))
            return value

        return draw

    def dropout(inputs, rate, noise_shape=None, seed=None):
        if rate in (0.0, 1.0):
            return real["dropout"](inputs, rate, noise_shape, seed)
        shape = noise_shape_of(inputs, noise_shape)
        from keras import backend

        dtype = backend.standardize_dtype(inputs.dtype)
        noise = real["uniform"](shape, dtype=dtype, seed=seed)
        keep = as_array(noise) >= rate
        found.append(keep)
        return kept(inputs, keep, rate)

    with swapped({**{name: drawing(name) for name in VALUE_DRAWS}, "dropout": dropout}):
        yield found


@contextmanager
def replayed(found: list[np.ndarray]) -> Iterator[None]:
    """The draws of ``recorded`` given back in the same order, cycling: a forward pass draws the
    same sequence every time, so the k-th draw of any pass is ``found[k mod len]``, in the dtype
    asked for. A draw of another shape than the one recorded is a ``ValueError``."""
    if not found:
        yield
        return
    module = backend_random()
    position = itertools.count()

    def next_of(shape) -> np.ndarray:
        value = found[next(position) % len(found)]
        if known(shape) and tuple(int(s) for s in shape) != value.shape:
            raise ValueError(
                f"the model draws random numbers of shape {tuple(shape)} where it drew "
                f"{value.shape} when its gradients were taken: its draws are not the same from "
                "call to call"
            )
        return value

    def replaying(name: str) -> Callable:
        signature = inspect.signature(getattr(module, name))

        def draw(*args, **kwargs):
            from keras import backend, ops

            bound = signature.bind(*args, **kwargs).arguments
            shape = bound.get("shape")
            value = next_of(shape)
            dtype = bound.get("dtype") or (
                backend.floatx() if np.issubdtype(value.dtype, np.floating) else value.dtype
            )
            return ops.cast(value, dtype)

        return draw

    def dropout(inputs, rate, noise_shape=None, seed=None):
        if rate in (0.0, 1.0):
            return inputs if rate == 0.0 else inputs * 0
        return kept(inputs, next_of(noise_shape_of(inputs, noise_shape)), rate)

    with swapped({**{name: replaying(name) for name in VALUE_DRAWS}, "dropout": dropout}):
        yield


def stored(path) -> list[np.ndarray]:
    """The draws ``across_backends`` wrote to ``path`` (an ``.npz``), in order."""
    with np.load(path) as found:
        return [found[f"draw/{k}"] for k in range(len(found.files))]
