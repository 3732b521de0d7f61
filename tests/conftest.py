import os
import subprocess
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from optional import skipped_for_a_missing_dependency  # noqa: E402
from process_state import process_left_as_found  # noqa: E402, F401 (an autouse fixture)

from backprop_suite.seeds import seeded, set_seed  # noqa: E402

# CI replays the same examples on every run; locally each run explores new ones
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# CI installs every optional dependency: a test skipped for a missing one fails the run there
_skipped_for_missing: list[str] = []
CHECKOUT = Path(__file__).resolve().parent.parent
_status_before: list[str | None] = []
_checkout_changes: list[str] = []  # what git status shows after the run and not before


def checkout_status() -> str | None:
    """``git status`` of the checkout the tests run in (None outside a git checkout)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
    )
    return done.stdout if done.returncode == 0 else None


@pytest.fixture
def global_seed():
    """``global_seed(n)`` sets every global seed (``keras.utils.set_random_seed``); each is put
    back after the test."""
    with seeded():
        yield set_seed


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``-n``: xdist's work-stealing schedule, unless ``--dist`` says otherwise. The tests take
    from 0.01 to 30 s in a random order (pytest-randomly); a worker that runs out of work takes
    some of another's instead of waiting for the slowest to finish."""
    if getattr(config.option, "numprocesses", None) and config.option.dist == "no":
        config.option.dist = "worksteal"


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: a run with -p no:xdist has none
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker more than the cores, since many tests wait on a child process (a
    TF1 program's, a script's, another Keras backend's) while it computes."""
    return (os.cpu_count() or 1) + 1


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        _status_before.append(checkout_status())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if skipped_for_a_missing_dependency(report):
        _skipped_for_missing.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return
    if os.environ.get("CI") and _skipped_for_missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _status_before and _status_before[0] is not None:
        before, after = _status_before[0].splitlines(), (checkout_status() or "").splitlines()
        _checkout_changes.extend(sorted(set(after) ^ set(before)))
    if _checkout_changes:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _checkout_changes:  # pytest_sessionfinish above has run: the reporter writes after it
        terminalreporter.write_line(
            "error: the tests left the checkout otherwise than they found it (git status): "
            + "; ".join(_checkout_changes),
            red=True,
        )
    if os.environ.get("CI") and _skipped_for_missing:
        terminalreporter.write_line(
            "error: CI installs every optional dependency, yet these tests skipped for a "
            f"missing one: {', '.join(_skipped_for_missing)}",
            red=True,
        )
