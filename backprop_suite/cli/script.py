"""What every script shares: the argument parser (bad arguments end in one ``error: …`` line),
``--verbose``, and the entry point that keeps TensorFlow's start-up lines off stderr."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import NoReturn, TypeVar

from backprop_suite.quiet import quiet_tensorflow

VERBOSE = "--verbose"
BAD_INPUT = 2  # a script's exit status for bad input, before any work
T = TypeVar("T")


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` with the project's convention for bad input: ``error: …`` on stderr, status 2,
    no usage dump. Every script gets ``--verbose``; options are never abbreviated, so that
    ``run_script`` can see ``--verbose`` before TensorFlow is imported. The description is shown
    as written (a command passes its module's docstring: examples, then the exit status)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, allow_abbrev=False, **kwargs)
        self.add_argument(
            VERBOSE,
            action="store_true",
            help="show TensorFlow's start-up and C++ log lines (hidden by default)",
        )

    def error(self, message: str) -> NoReturn:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def split_argv(argv: list[str] | None) -> tuple[list[str], list[str]]:
    """The check's arguments and, after the first ``--``, the script's."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def print_and_write(json_path: str | None, text: str, json_text: str) -> int | None:
    """A report on stdout (its JSON with ``--json -``) and its JSON written to ``json_path``:
    None, or the exit status when that write failed."""
    from backprop_suite.core.outputs import Writes, write_text

    print(json_text if json_path == "-" else text)
    writes = Writes()
    if json_path is not None and json_path != "-":
        writes.attempt("--json", json_path, lambda: write_text(json_path, json_text + "\n"))
    return writes.finish(None if json_path == "-" else lambda: json_text)


def checked(prepare: Callable[[], T]) -> T | None:
    """``prepare()``: a script's checks before any work. None after printing the one ``error: …``
    line for a ``ValueError`` (bad input) or an ``ImportError`` (``--plot`` without matplotlib);
    the script then exits with ``BAD_INPUT``."""
    try:
        return prepare()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
    except ImportError as error:
        print(f"error: {plot_needs_matplotlib(error)}", file=sys.stderr)
    return None


def plot_needs_matplotlib(error: ImportError) -> str:
    """The message for ``--plot`` when importing matplotlib failed with ``error``: the extra to
    install where it is missing, the import's own error where it is there but broken."""
    from backprop_suite.core.extras import install_hint

    if (error.name or "").partition(".")[0] == "matplotlib":
        return f"--plot needs matplotlib: {install_hint('matplotlib')}"
    return f"--plot needs matplotlib, which did not import ({error})"


INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program that Ctrl-C stopped
STDOUT_CLOSED = 141  # 128 + SIGPIPE, as a shell reports one whose reader went away


class CtrlC:
    """A SIGINT handler that raises ``KeyboardInterrupt`` as Python's does, and notes that Ctrl-C
    came (an import it broke raises ImportError, not this)."""

    seen = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        CtrlC.seen = True
        raise KeyboardInterrupt


def ctrl_c_pressed() -> bool:
    """Whether the ``KeyboardInterrupt`` being handled can have come from Ctrl-C: always, unless
    ``CtrlC`` handles SIGINT in this process and has not been called; then code raised it (a
    user's model file)."""
    return CtrlC.seen or not isinstance(signal.getsignal(signal.SIGINT), CtrlC)


def ctrl_c_again_where_ignored(unraisable) -> None:
    """``sys.unraisablehook`` for a script: a ``KeyboardInterrupt`` raised where Python prints
    and drops exceptions (a garbage-collector callback, as JAX installs; a weakref callback; a
    ``__del__``) would let the run go on with a traceback on stderr. Instead, Ctrl-C is
    signalled again a moment later, where it can stop the run. Anything else is reported as
    Python reports it."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)
        return
    again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    again.daemon = True
    again.start()


def interrupted() -> int:
    """After a Ctrl-C: what the run's writes made so far is taken away again, one line says
    ``interrupted``, and the status is ``INTERRUPTED``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if "backprop_suite.core.outputs" in sys.modules:
        sys.modules["backprop_suite.core.outputs"].undo_unfinished()
    print("interrupted", file=sys.stderr)
    return INTERRUPTED


READY_FILE = "BACKPROP_SUITE_READY_FILE"  # a file to create once Ctrl-C is caught (for tests)


def catch_ctrl_c() -> None:
    """From now on Ctrl-C raises ``KeyboardInterrupt`` by way of ``CtrlC``, unless the process
    has a SIGINT handler of its own; then create the file that ``READY_FILE`` names, if set."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, CtrlC())
        sys.unraisablehook = ctrl_c_again_where_ignored
    ready = os.environ.get(READY_FILE)
    if ready:
        os.close(os.open(ready, os.O_CREAT | os.O_WRONLY))


def launch(command: str) -> NoReturn:
    """Run ``backprop_suite.cli.<command>`` as a program, catching Ctrl-C before its module
    (NumPy, TensorFlow's parts) is imported: from the moment this runs (docs/command_line.md
    says how soon after Python starts), a Ctrl-C prints ``interrupted`` and exits 130. One that
    comes sooner, while Python itself starts, is Python's: a ``KeyboardInterrupt`` traceback,
    and the process ends by the signal (status -2, 130 in a shell)."""
    try:
        catch_ctrl_c()
        importlib.import_module(f"backprop_suite.cli.{command}").run()
    except KeyboardInterrupt:
        sys.exit(interrupted())
    except ImportError:
        if not CtrlC.seen:
            raise
        sys.exit(interrupted())


def run_script(main: Callable[[], int]) -> NoReturn:
    """Run a script's ``main`` as a program: quiet unless ``--verbose`` is given or the user has
    set ``TF_CPP_MIN_LOG_LEVEL``, then exit with its status. Ctrl-C prints ``interrupted`` and
    exits 130 (every output is written atomically, so none is left half-written; a child
    process is ended by ``subprocess``); a reader of stdout that goes away (``| head -1``) ends
    the script quietly with 141."""
    try:
        quiet_tensorflow(verbose=VERBOSE in sys.argv[1:])
        catch_ctrl_c()
        status = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        status = interrupted()
    except ImportError:  # a Ctrl-C while a native (pybind11) module of TensorFlow initialises
        # fails its import with "initialization failed" instead (seen in a CI run)
        if not CtrlC.seen:
            raise
        status = interrupted()
    except BrokenPipeError:
        status = STDOUT_CLOSED
    if status == STDOUT_CLOSED:
        # what is still buffered for the closed pipe would fail again as Python exits
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(status)


def parse_optimizer_args(text: str) -> dict[str, object]:
    """``"momentum=0.9,use_nesterov=true"`` -> {"momentum": 0.9, "use_nesterov": True}."""
    args: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"--optimizer-args takes key=value,…, got {item!r}")
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            args[key.strip()] = lowered == "true"
            continue
        try:
            args[key.strip()] = float(value)
        except ValueError:
            raise ValueError(
                f"--optimizer-args {key.strip()}: {value!r} is not a number, true or false"
            ) from None
    return args
