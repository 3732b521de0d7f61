"""The command-line parser every script uses: bad arguments end in one ``error: …`` line."""

from __future__ import annotations

import argparse
import sys


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` with the project's convention for bad input: ``error: …`` on stderr, status 2,
    no usage dump."""

    def error(self, message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)
