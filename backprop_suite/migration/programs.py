"""Import a user's program file and find the function the check calls in it."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import re
import sys
import sysconfig
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

# where installed packages live: a module imported from there is never displaced by a user's
INSTALLED = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "purelib", "platlib")}


# what makes a library's message span lines or the terminal: Keras's bold, TensorFlow's
# function-node prefix, and Keras's list of the arguments a layer received
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")
_FUNCTION_NODE = re.compile(r"\{\{function_node [^}]*\}\}\s*")
_ARGUMENTS = "Arguments received by"
_RAISED = re.compile(r"^\w+(Error|Exception): ")
_TRACE = re.compile(r'^(Graph execution error:|Detected at node|Node: |\[\[|File ")')


def one_line(error: BaseException) -> str:
    """``error``'s message on one line: its lines joined, Keras's list of the arguments a layer
    received and the terminal's escape codes left out."""
    try:
        text = str(error)
    except Exception:  # a message that cannot be made is no reason to fail the report of it
        text = ""
    text = _FUNCTION_NODE.sub("", _ESCAPES.sub("", text)).split(_ARGUMENTS)[0]
    return " ".join(text.split())


def described(error: BaseException, path: str | Path | None = None) -> str:
    """``Type: message (line N of FILE)`` on one line, the line the deepest of the traceback
    in ``path`` where it passed through that file, else the deepest of all."""
    frames = traceback.extract_tb(error.__traceback__)
    if path is not None:
        name = Path(path).resolve()
        frames = [f for f in frames if Path(f.filename).resolve() == name] or frames
    message = one_line(error)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if not frames:
        return text
    return f"{text} (line {frames[-1].lineno} of {Path(frames[-1].filename).name})"


def program_file(path: str | Path) -> Path:
    """``path``, checked to be a readable file of Python source without running it: a missing
    file, a directory, or a file that is not Python is a ``ValueError`` that says which."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a Python file")
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    try:
        source = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path} cannot be read ({error.strerror})") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        if line is None:  # null bytes, or text in no encoding Python reads: not source at all
            raise ValueError(f"{path} is not Python source ({error})") from None
        where = f"line {line} of {path.name}"
        raise ValueError(f"{path} does not import: SyntaxError: {error.msg} ({where})") from None
    return path


def provided(folder: Path) -> set[str]:
    """The top-level module names a folder provides: its ``.py`` files and its subfolders."""
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.name for p in folder.iterdir() if p.is_dir() and p.name.isidentifier()}
    return names


def imported_from_elsewhere(module: ModuleType, folder: Path) -> bool:
    """Whether ``module`` came from a file outside ``folder`` and outside the installed
    packages: the suite's own or another user program's."""
    file = getattr(module, "__file__", None)
    if file is None:
        return False
    where = Path(file).resolve()
    return not where.is_relative_to(folder) and not any(where.is_relative_to(i) for i in INSTALLED)


@contextlib.contextmanager
def own_imports(folder: Path) -> Iterator[None]:
    """While a user's program imports: its folder first on the path, as ``python OLD.py`` puts
    it, and every module of a name that folder provides imported from there, not taken from a
    module of that name imported before (another program's ``common`` or ``utils``). After,
    ``sys.modules`` holds what it held before for those names: the program keeps its own
    modules, and the process gets its own back."""
    folder = folder.resolve()
    names = provided(folder)
    before = {n: m for n, m in sys.modules.items() if n.partition(".")[0] in names}
    for name, module in before.items():
        if imported_from_elsewhere(module, folder):
            del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.partition(".")[0] in names]:
            if name not in before:
                del sys.modules[name]
        sys.modules.update(before)


def load_module(path: str | Path) -> ModuleType:
    """Import ``path`` as a module of its own; a missing file or one that does not import (it
    raises, or calls ``sys.exit``) is a ``ValueError`` that names the file and the exception."""
    path = program_file(path)
    spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    with own_imports(path.parent):
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # sys.exit() at import ends no check
            raise ValueError(f"{path} does not import: {described(error, path)}") from None
    return module


def function(module: ModuleType, name: str, path: str | Path):
    """``module.name``, which must be callable."""
    found = getattr(module, name, None)
    if not callable(found):
        raise ValueError(f"{path} defines no function {name}()")
    return found


def call(fn, path: str | Path, **options):
    """Call ``fn`` with the options it declares. An option it cannot take, or an exception it
    raises (``SystemExit`` too), is a ``ValueError`` that names the file, the function and the
    line."""
    accepted = inspect.signature(fn).parameters
    for key in options:
        if key not in accepted:
            raise ValueError(f"{path}: {fn.__name__}() takes no {key!r} argument")
    try:
        return fn(**options)
    except (Exception, SystemExit) as error:
        raise ValueError(f"{path}: {fn.__name__}() raised {described(error, path)}") from None


def message_of(error: BaseException) -> str:
    """An exception's message on one line, without the trace that TensorFlow and Keras put in
    it (the frames, the node lines, "Graph execution error:", the arguments a layer received);
    its ``repr`` where nothing is left."""
    try:
        lines = str(error).splitlines()
    except Exception:  # a message that cannot be made is no reason to fail the report of it
        lines = []
    if any(line.strip() == "in user code:" for line in lines):  # tf.function's trace first
        raised = [i for i, line in enumerate(lines) if _RAISED.match(line.strip())]
        if raised:
            lines = [_RAISED.sub("", lines[raised[-1]].strip()), *lines[raised[-1] + 1 :]]
    kept = [line for line in lines if line.strip() and not _TRACE.match(line.strip())]
    text = _FUNCTION_NODE.sub("", _ESCAPES.sub("", " ".join(kept))).split(_ARGUMENTS)[0]
    return " ".join(text.split()).rstrip(" •:") or repr(error)
