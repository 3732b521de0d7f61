"""What every script shares: the argument parser (bad arguments end in one ``error: …`` line),
``--verbose``, and the entry point that keeps TensorFlow's start-up lines off stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from common.quiet import quiet_tensorflow

VERBOSE = "--verbose"
BAD_INPUT = 2  # a script's exit status for bad input, before any work
T = TypeVar("T")


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` with the project's convention for bad input: ``error: …`` on stderr, status 2,
    no usage dump. Every script gets ``--verbose``; options are never abbreviated, so that
    ``run_script`` can see ``--verbose`` before TensorFlow is imported."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, allow_abbrev=False, **kwargs)
        self.add_argument(
            VERBOSE,
            action="store_true",
            help="show TensorFlow's start-up and C++ log lines (hidden by default)",
        )

    def error(self, message: str) -> NoReturn:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def checked(prepare: Callable[[], T]) -> T | None:
    """``prepare()``: a script's checks before any work. None after printing the one ``error: …``
    line for a ``ValueError`` (bad input) or an ``ImportError`` (``--plot`` without matplotlib);
    the script then exits with ``BAD_INPUT``."""
    try:
        return prepare()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
    except ImportError as error:
        print(f"error: --plot needs matplotlib ({error})", file=sys.stderr)
    return None


def run_script(main: Callable[[], int]) -> NoReturn:
    """Run a script's ``main`` as a program: quiet unless ``--verbose`` is given or the user has
    set ``TF_CPP_MIN_LOG_LEVEL``, then exit with its status."""
    quiet_tensorflow(verbose=VERBOSE in sys.argv[1:])
    sys.exit(main())


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
