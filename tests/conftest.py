import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from optional import skipped_for_a_missing_dependency  # noqa: E402

# CI replays the same examples on every run; locally each run explores new ones
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# CI installs every optional dependency: a test skipped for a missing one fails the run there
_skipped_for_missing: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if skipped_for_a_missing_dependency(report):
        _skipped_for_missing.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") and _skipped_for_missing and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if os.environ.get("CI") and _skipped_for_missing:
        terminalreporter.write_line(
            "error: CI installs every optional dependency, yet these tests skipped for a "
            f"missing one: {', '.join(_skipped_for_missing)}",
            red=True,
        )
