"""The suite's guard on process-global state (``tests/process_state.py``, autouse in every test)
fails a test that leaves the process changed, naming what changed, and passes one that does not:
shown on tests of its own, run by pytest in a child process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

LEAKY = """
import os
import signal
import sys


def test_sets_a_variable():
    os.environ["LEAKED_BY_A_TEST"] = "1"


def test_puts_a_folder_on_the_path():
    sys.path.insert(0, "/nowhere")


def test_replaces_the_ctrl_c_handler():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_changes_nothing(monkeypatch):
    monkeypatch.setenv("PUT_BACK_BY_MONKEYPATCH", "1")
    monkeypatch.syspath_prepend("/put/back/too")


def test_sees_what_the_one_before_left():
    assert "LEAKED_BY_A_TEST" not in os.environ
    assert "/nowhere" not in sys.path
"""


def run_guarded(folder: Path, source: str) -> subprocess.CompletedProcess:
    (folder / "test_guarded.py").write_text(textwrap.dedent(source))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "process_state",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            "--rootdir",
            str(folder),
            "-c",
            "/dev/null",
            str(folder / "test_guarded.py"),
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TESTS), "COLUMNS": "1000"},
    )


def test_a_test_that_leaks_fails_naming_what_it_changed(tmp_path):
    done = run_guarded(tmp_path, LEAKY)
    errors = {
        line.split("::")[1].split(" ")[0]: line
        for line in done.stdout.splitlines()
        if line.startswith("ERROR")
    }
    assert sorted(errors) == sorted(
        [
            "test_sets_a_variable",
            "test_puts_a_folder_on_the_path",
            "test_replaces_the_ctrl_c_handler",
        ]
    ), done.stdout
    assert (
        "os.environ: {'LEAKED_BY_A_TEST': None} -> {'LEAKED_BY_A_TEST': '1'}"
        in errors["test_sets_a_variable"]
    )
    assert "sys.path: [" in errors["test_puts_a_folder_on_the_path"]
    assert "signal handlers: {'SIGINT'" in errors["test_replaces_the_ctrl_c_handler"]
    # the last test passes: what the first two left was put back
    assert "5 passed, 3 errors" in done.stdout, done.stdout
