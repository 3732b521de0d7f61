"""TF1's ``tf.contrib`` for TensorFlow 2, which has none, taken from ``tf_slim``.

TF 1.x's ``tf.contrib.layers``, ``tf.contrib.slim`` and ``tf.contrib.framework``, and the
``losses``, ``metrics`` and ``training`` modules that slim used, live on in the ``tf-slim``
package, which builds the same graph under the same variable names on ``tensorflow.compat.v1``.
While ``installed()``, a TF1 program reaches them whichever way it did:
``tf.contrib.layers.fully_connected(...)``, ``import tensorflow.contrib.slim as slim``,
``from tensorflow.contrib import slim``, ``from tensorflow.contrib.framework import arg_scope``.
tf_slim is imported when a program first asks for one of them, not before.

Anything else under ``tf.contrib`` (``tf.contrib.rnn``, ``tf.contrib.learn``), a name that
tf_slim does not have, and any of them without tf_slim installed is an ``ImportError`` of one
line that names it and says what to do instead.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

ROOT = "tensorflow.contrib"
# each contrib module that tf_slim covers, and the tf_slim modules that hold what it held
COVERED: dict[str, tuple[str, ...]] = {
    "slim": ("tf_slim",),
    "layers": ("tf_slim.layers",),
    "framework": ("tf_slim.ops.arg_scope", "tf_slim.ops.variables", "tf_slim.ops.framework_ops"),
    "losses": ("tf_slim.losses",),
    "metrics": ("tf_slim.metrics",),
    "training": ("tf_slim.training.training", "tf_slim.training.evaluation"),
}
# where TensorFlow 2 has what some of the other contrib modules held
MOVED: dict[str, str] = {
    "rnn": "tf.nn.rnn_cell (BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, DropoutWrapper)",
    "learn": "tf.estimator, and its datasets to NumPy arrays",
    "data": "tf.data",
    "keras": "tf.keras",
    "summary": "tf.summary",
    "lookup": "tf.lookup",
    "distributions": "TensorFlow Probability's tfp.distributions",
}
NO_CONTRIB = "TensorFlow 2 has no tf.contrib"
# tf_slim's batch_norm builds tf.layers' BatchNormalization, which TensorFlow 2.21 looks for
# under the first name and tf_keras 2.21 has under the second
NORMALIZATION = (
    "tf_keras.legacy_tf_layers.normalization",
    "tf_keras.src.legacy_tf_layers.normalization",
)
MISSING = object()


def label(name: str) -> str:
    """``tensorflow.contrib.slim`` as a TF1 program writes it: ``tf.contrib.slim``."""
    return "tf." + name.removeprefix("tensorflow.")


def findable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # its package is not there
        return False


def batch_norm_found() -> Callable[[], None] | None:
    """``tf.layers``' normalization module, which tf_slim's ``batch_norm`` builds on, pointed at
    tf_keras's where TensorFlow looks for it under a name that tf_keras no longer has; what
    undoes that (None: nothing done)."""
    from tensorflow.python.layers import normalization as layers
    from tensorflow.python.util.lazy_loader import LazyLoader

    looked_for, there = NORMALIZATION
    lazy = layers.normalization
    if not isinstance(lazy, LazyLoader) or lazy.__name__ != looked_for:
        return None
    if findable(looked_for) or not findable(there):
        return None
    layers.normalization = importlib.import_module(there)
    return lambda: setattr(layers, "normalization", lazy)


def moved_names_found() -> Callable[[], None] | None:
    """What tf_slim reaches where TF 1.x had it and TensorFlow 2.21 has moved to modules of
    their own, put back there: ``ops.Tensor`` and ``ops.IndexedSlices`` (``optimize_loss``,
    ``learning``, the layer utilities), ``control_flow_ops.case``, ``cond``, ``while_loop`` and
    ``Assert`` (``tfexample_decoder``, the metrics); what undoes that (None: nothing done)."""
    from tensorflow.python.framework import indexed_slices, ops, tensor
    from tensorflow.python.ops import (
        cond,
        control_flow_assert,
        control_flow_case,
        control_flow_ops,
        while_loop,
    )

    moved = [
        (ops, "Tensor", tensor.Tensor),
        (ops, "IndexedSlices", indexed_slices.IndexedSlices),
        (control_flow_ops, "case", control_flow_case.case),
        (control_flow_ops, "cond", cond.cond),
        (control_flow_ops, "while_loop", while_loop.while_loop),
        (control_flow_ops, "Assert", control_flow_assert.Assert),
    ]
    missing = [(owner, name, found) for owner, name, found in moved if not hasattr(owner, name)]
    if not missing:
        return None
    for owner, name, found in missing:
        setattr(owner, name, found)

    def undo() -> None:
        for owner, name, _ in missing:
            delattr(owner, name)

    return undo


def slim_modules(name: str, undo: list[Callable[[], None]]) -> tuple[ModuleType, ...]:
    """The tf_slim modules that stand in for the contrib module ``name``, ready to run (what
    undoes that added to ``undo``); an ``ImportError`` of one line where tf_slim has none, or
    is not installed."""
    short = name.removeprefix(ROOT + ".")
    if short not in COVERED:
        where = MOVED.get(short, "TensorFlow 2's own API")
        raise ImportError(
            f"{label(name)}: {NO_CONTRIB}, and tf_slim has no equivalent of this module; "
            f"port it to {where}"
        )
    try:
        importlib.import_module("tf_slim")
    except ImportError:
        raise ImportError(
            f"{label(name)}: {NO_CONTRIB}, and tf-slim, which runs its layers, slim and "
            "framework code as TF 1.x did, is not installed: pip install tf-slim"
        ) from None
    for fix in (batch_norm_found, moved_names_found):
        fixed = fix()
        if fixed is not None:
            undo.append(fixed)
    return tuple(importlib.import_module(source) for source in COVERED[short])


def submodule(package: ModuleType, attr: str) -> ModuleType | None:
    """``package.attr`` imported, where ``package`` is a package that has such a module."""
    if not hasattr(package, "__path__"):
        return None
    name = f"{package.__name__}.{attr}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


class Contrib(ModuleType):
    """A ``tf.contrib`` module: its members are those of ``sources`` (tf_slim's modules), each
    tf_slim module among them a ``Contrib`` too; the root ``tf.contrib`` (no sources) has the
    covered modules as members."""

    def __init__(self, name: str, sources: tuple[ModuleType, ...] = ()) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package: `import tensorflow.contrib.X.Y` asks Finder
        self.__spec__ = importlib.machinery.ModuleSpec(name, Given(self), is_package=True)
        self._sources = sources
        self._undo: list[Callable[[], None]] = []  # the root's: what installed() undoes

    def __getattr__(self, attr: str):
        if attr == "__all__":  # from tensorflow.contrib.slim import *
            return sorted({n for s in self._sources for n in dir(s) if not n.startswith("_")})
        if attr.startswith("_"):
            raise AttributeError(attr)
        found = self._member(f"{self.__name__}.{attr}", attr)
        setattr(self, attr, found)
        return found

    def _member(self, name: str, attr: str):
        if not self._sources:
            return Contrib(name, slim_modules(name, self._undo))
        found = next((getattr(s, attr) for s in self._sources if hasattr(s, attr)), MISSING)
        if found is MISSING:
            found = submodule(self._sources[0], attr)
        if found is None:
            raise ImportError(
                f"{label(name)}: {NO_CONTRIB}, and tf_slim has no equivalent of it; port it to "
                "TensorFlow 2's own API"
            )
        if isinstance(found, ModuleType) and found.__name__.startswith("tf_slim"):
            return Contrib(name, (found,))
        return found


class Given(importlib.abc.Loader):
    """Loads the module it was given."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        pass


class Finder(importlib.abc.MetaPathFinder):
    """``import tensorflow.contrib.X.Y``: the member ``Y`` of the ``Contrib`` imported as
    ``tensorflow.contrib.X``."""

    def find_spec(self, fullname: str, path=None, target=None):
        parent_name, _, attr = fullname.rpartition(".")
        parent = sys.modules.get(parent_name)
        if not isinstance(parent, Contrib):
            return None
        found = getattr(parent, attr, None)  # an ImportError that says why, where none
        return found.__spec__ if isinstance(found, Contrib) else None


def contrib_modules() -> dict[str, ModuleType]:
    return {n: m for n, m in sys.modules.items() if n == ROOT or n.startswith(ROOT + ".")}


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """``tf.contrib`` on ``tensorflow`` and ``tensorflow.compat.v1``, ``tensorflow.contrib``
    and its modules importable; after, each of them as it was."""
    import tensorflow as tf

    owners = (tf, tf.compat.v1)
    before = [getattr(owner, "contrib", MISSING) for owner in owners]
    modules = contrib_modules()
    root, finder = Contrib(ROOT), Finder()
    for owner in owners:
        owner.contrib = root
    sys.modules[ROOT] = root
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        for undo in reversed(root._undo):
            undo()
        sys.meta_path.remove(finder)
        for name in contrib_modules():
            del sys.modules[name]
        sys.modules.update(modules)
        for owner, value in zip(owners, before):
            if value is MISSING:
                del owner.contrib
            else:
                owner.contrib = value
