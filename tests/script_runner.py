"""Run the scripts as a user does (a real process, no log-level variable of ours) or in-process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
NAMES = ("compare", "explain", "check_gradients", "bench")


def user_environment() -> dict[str, str]:
    """This process's environment without ``TF_CPP_MIN_LOG_LEVEL`` (conftest sets it): the
    scripts see what a user's shell gives them."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def run(
    name: str, *args: object, cwd=None, env=None, preexec_fn=None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / f"{name}.py"), *map(str, args)],
        capture_output=True,
        text=True,
        env=user_environment() if env is None else env,
        cwd=cwd,
        preexec_fn=preexec_fn,
    )


def load(name: str) -> ModuleType:
    """The script as a fresh module (its ``main`` takes an argument list)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))  # compare.py imports figures.py beside it
    spec = importlib.util.spec_from_file_location(f"{name}_script", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exit_status(main: Callable[[list[str]], int], argv: list[str]) -> int:
    """``main(argv)``'s status, argparse's ``SystemExit`` included."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code
