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
NAMES = ("compare", "explain", "check_gradients", "bench", "check_migration", "sweep")


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


def run_in_process(module: ModuleType, *args: object) -> subprocess.CompletedProcess:
    """``module.main(args)`` with its stdout and stderr captured, shaped like ``run``'s result."""
    argv = list(map(str, args))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = exit_status(module.main, argv)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def make_cheap(module: ModuleType) -> None:
    """Shrink a loaded script's work to a fraction of a second, for tests about its command line
    and its outputs rather than its numbers: ``check_gradients`` checks one net, ``bench`` times
    empty jobs, skips the end-to-end processes, the data-parallel rows and the sweep, and scales
    the NumPy implementation over one size; ``check_migration`` checks its arguments and files
    and then reports an empty check. Other scripts are left as they are."""
    name = module.__name__.removesuffix("_script")
    if name == "check_gradients":
        module.NETS = [(2, 2, 1)]
        module.ACTIVATIONS = ("sigmoid",)
        module.LOSSES = ("sum_squares",)
    elif name == "check_migration":
        from backprop_suite.migration.check import Report

        module.run_check = lambda old, new, options: Report([], {"steps": options.steps})
    elif name == "bench":
        names = (module.TF1_LOOP, module.TF2_DEFAULT, module.KERAS_EPOCHS, module.KERAS_DEFAULT)
        names += (module.MANUAL, module.BASELINE)
        module.modes = lambda cfg: {name: (lambda p, x, y: None) for name in names}
        module.end_to_end = lambda repeats: {"compare_s": 5.0, "import_s": 4.0}
        module.IMPLEMENTATIONS = {"manual": "manual_impl"}
        module.scaling = functools.partial(module.scaling, widths=(3,), samples=(4,))
        module.replica_rows = lambda repeats, **kwargs: []
        module.sweep_rows = lambda repeats, **kwargs: []


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
