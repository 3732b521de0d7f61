"""What a child process on another Keras backend imports to load a user's model and loss.

Keras finds a class or function of the user's in a saved model only among the registered
serializables (``@keras.saving.register_keras_serializable``) and the ``custom_objects`` it is
given. So the parent names each such object the model's config and the loss's look up (a
layer's class, an activation, a registered object, the loss function or its ``Loss`` class)
by its module, the module's file and its qualified name, and the child imports those modules
before it loads: by name where ``import`` with the parent's ``sys.path`` finds the same file,
else from the file under a private module name, its folder first on ``sys.path`` (as ``python
FILE.py`` has it; its ``if __name__ == "__main__":`` part does not run). Importing runs the
module's top level, as any import does. A lambda, or an object defined inside a function,
cannot be imported: a ``ValueError`` says so before any child starts.

    needs = needed_by(model, loss)              # the parent: JSON
    custom_objects, loss = imported(needs)      # the child, before keras.saving.load_model
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path

from backprop_suite.gradcheck.reference import classes_of, loss_in

UNSAVED = "the model or its loss cannot be saved for the other backends"
# objects of these packages Keras finds by itself
KERAS_OWN = {"keras", "tensorflow", "jax", "torch", "numpy", "builtins"}


def names_in(config: object) -> set[str]:
    """Every name a serialized config finds an object by: a class's registered name, a
    function's name."""
    found: set[str] = set()
    if isinstance(config, dict):
        if config.get("class_name") == "function" and isinstance(config.get("config"), str):
            found.add(config["config"])
        elif isinstance(config.get("registered_name"), str):
            found.add(config["registered_name"])
        for value in config.values():
            found |= names_in(value)
    elif isinstance(config, list):
        for value in config:
            found |= names_in(value)
    return found


def used_by(loss: Callable) -> list[object]:
    """The loss itself (a function), or its class and the functions it holds (a ``Loss``'s
    function)."""
    if isinstance(loss, types.FunctionType):
        return [loss]
    return [type(loss), *vars(loss).values()]


def file_of(obj: type | Callable) -> str | None:
    """The file that defines ``obj``: its module's, or the code's of one of its functions (a
    module loaded from a file and not kept in ``sys.modules``, as ``check_gradients.py
    MODEL.py`` loads it)."""
    module = sys.modules.get(obj.__module__)
    if getattr(module, "__file__", None) and _attribute(module, obj.__qualname__) is obj:
        return module.__file__
    code = getattr(obj, "__code__", None)
    codes = (
        [code] if code is not None else [getattr(v, "__code__", None) for v in vars(obj).values()]
    )
    return next((found.co_filename for found in codes if found is not None), None)


def importable(name: str, file: str) -> bool:
    """Whether ``import name`` on this process's ``sys.path`` finds ``file`` (in a fresh
    process, whatever ``sys.modules`` holds here)."""
    if name == "__main__":
        return False
    search, spec = None, None
    for depth, _ in enumerate(parts := name.split(".")):
        if depth and search is None:
            return False
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), search)
        if spec is None:
            return False
        search = spec.submodule_search_locations
    return spec.origin is not None and Path(spec.origin).resolve() == Path(file).resolve()


def travelling(obj: type | Callable, what: str) -> dict:
    """How the child finds ``obj`` (``what`` names it in a refusal): its module, how to import
    that module, and its qualified name."""
    name = obj.__qualname__
    if "<lambda>" in name:
        raise ValueError(
            f"{what} is a lambda: another backend's process cannot import it; define it with "
            "def at the top level of a module"
        )
    if "<locals>" in name:
        raise ValueError(
            f"{what} {name.replace('.<locals>', '')} is defined inside a function: another "
            "backend's process cannot import it; define it at the top level of a module"
        )
    file = file_of(obj)
    if file is None or not Path(file).is_file():
        raise ValueError(
            f"{what} {name} is defined in {obj.__module__}, which has no file (an interactive "
            "session): another backend's process cannot import it; define it in a module"
        )
    by_name = importable(obj.__module__, file)
    return {"module": obj.__module__, "file": file, "by_name": by_name, "qualname": name}


def keras_own(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "builtins").partition(".")[0] in KERAS_OWN


def needed_by(model, loss: Callable) -> dict:
    """What the child needs (JSON): ``objects`` keyed by the name Keras looks each up by, the
    ``loss`` (a function by reference, a ``Loss`` serialized with its dtype, which Keras's
    serialization leaves out) and the parent's ``sys_path``. A ``ValueError`` for what cannot
    travel."""
    import keras

    if not isinstance(loss, types.FunctionType | keras.losses.Loss):
        raise ValueError(
            "the loss must be a keras.losses.Loss or a function defined with def to be checked "
            f"on other backends, got {type(loss).__name__}"
        )
    try:
        if isinstance(loss, types.FunctionType):
            saved = {"function": travelling(loss, "the loss")}
        else:
            saved = {"keras": keras.losses.serialize(loss), "dtype": loss.dtype}
        looked_up = names_in(keras.saving.serialize_keras_object(model)) | names_in(saved)
    except ValueError:
        raise
    except Exception as error:
        raise ValueError(f"{UNSAVED}: {type(error).__name__}: {error}") from None
    objects = {}
    candidates = [*classes_of(model).values(), *used_by(loss)]
    for obj in candidates:
        if not isinstance(obj, type | types.FunctionType) or keras_own(obj):
            continue
        key = keras.saving.get_registered_name(obj)
        if key in looked_up and key not in objects:
            kind = "the function" if isinstance(obj, types.FunctionType) else "the class"
            objects[key] = travelling(obj, kind)
    return {"objects": objects, "loss": saved, "sys_path": list(sys.path)}


def _module(entry: dict, loaded: dict[str, types.ModuleType]) -> types.ModuleType:
    if entry["by_name"]:
        return importlib.import_module(entry["module"])
    if entry["file"] not in loaded:
        folder = str(Path(entry["file"]).parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        private = f"_user_module_{len(loaded)}"
        spec = importlib.util.spec_from_file_location(private, entry["file"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[private] = module
        spec.loader.exec_module(module)
        loaded[entry["file"]] = module
    return loaded[entry["file"]]


def _attribute(module: types.ModuleType, qualname: str) -> object:
    """``module``'s object of that qualified name (``Outer.Inner``), or None."""
    found: object = module
    for name in qualname.split("."):
        found = getattr(found, name, None)
    return found


def _found(entry: dict, loaded: dict[str, types.ModuleType]) -> object:
    module = _module(entry, loaded)
    found = _attribute(module, entry["qualname"])
    if found is None:
        raise ImportError(f"{entry['file']} defines no {entry['qualname']} when imported here")
    return found


def imported(needs: dict) -> tuple[dict[str, object], Callable]:
    """In the child: the parent's ``sys.path`` first, then each object's module imported, once
    each; the ``custom_objects`` for ``keras.saving.load_model``, and the loss in its dtype."""
    import keras

    sys.path[:] = needs["sys_path"] + [p for p in sys.path if p not in needs["sys_path"]]
    loaded: dict[str, types.ModuleType] = {}
    custom_objects = {key: _found(entry, loaded) for key, entry in needs["objects"].items()}
    saved = needs["loss"]
    if "function" in saved:
        return custom_objects, _found(saved["function"], loaded)
    loss = keras.losses.deserialize(saved["keras"], custom_objects=custom_objects)
    return custom_objects, loss if saved["dtype"] is None else loss_in(loss, saved["dtype"])
