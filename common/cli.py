"""What every script shares: the argument parser (bad arguments end in one ``error: …`` line),
``--verbose``, and the entry point that keeps TensorFlow's start-up lines off stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from common.quiet import quiet_tensorflow

VERBOSE = "--verbose"


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


def run_script(main: Callable[[], int]) -> NoReturn:
    """Run a script's ``main`` as a program: quiet unless ``--verbose`` is given or the user has
    set ``TF_CPP_MIN_LOG_LEVEL``, then exit with its status."""
    quiet_tensorflow(verbose=VERBOSE in sys.argv[1:])
    sys.exit(main())
