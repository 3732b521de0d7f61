"""Run the scripts as a user does (a real process, no log-level variable of ours) or in-process."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
COMMANDS = ROOT / "backprop_suite" / "cli"
NAMES = (
    "compare",
    "explain",
    "check_gradients",
    "bench",
    "check_migration",
    "convert_checkpoint",
    "sweep",
)


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
    """The script's command as a fresh module (its ``main`` takes an argument list)."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", COMMANDS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(main: ModuleType | Callable, *args: object) -> subprocess.CompletedProcess:
    """``main(args)`` (a command's module: its ``main``) with its stdout and stderr captured,
    shaped like ``run``'s result."""
    main = main.main if isinstance(main, ModuleType) else main
    argv = list(map(str, args))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = exit_status(main, argv)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def cheap(module: ModuleType) -> Callable[[list[str]], int]:
    """The command's ``main`` with its work shrunk to a fraction of a second, for tests about
    its command line and its outputs rather than its numbers: ``check_gradients`` checks one
    net, ``bench`` runs its smallest plan (NumPy only, two steps, one size), ``check_migration``
    checks its arguments and files and then reports an empty check (``--list`` an empty listing),
    ``convert_checkpoint`` an empty conversion. Other commands' ``main`` as it is."""
    name = module.__name__.removesuffix("_script")
    if name == "check_gradients":
        return functools.partial(module.main, cases=[((2, 2, 1), "sigmoid", "sum_squares")])
    if name == "check_migration":
        from backprop_suite.migration.verdict.report import Report

        return functools.partial(
            module.main,
            check=lambda old, new, options: Report([], {"steps": options.steps}),
            list_program=lambda old, options: "listed",
        )
    if name == "convert_checkpoint":
        from backprop_suite.migration.conversion.convert import Conversion

        return functools.partial(
            module.main, convert=lambda args, old: Conversion(args.out, {}, {})
        )
    if name == "bench":
        from backprop_suite.bench.plan import SMALLEST

        return functools.partial(module.main, chosen=SMALLEST)
    return module.main


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The one ``error:`` line of a run refused as bad input: exit 2, nothing on stdout, no
    traceback."""
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def exit_status(main: Callable[[list[str]], int], argv: list[str]) -> int:
    """``main(argv)``'s status, argparse's ``SystemExit`` included."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code
