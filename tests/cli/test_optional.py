"""A test skipped for a missing optional dependency fails a CI run, and only a CI run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from optional import MISSING

TESTS = Path(__file__).resolve().parents[1]


def test_a_skip_for_a_missing_dependency_fails_ci_but_not_a_users_run(tmp_path):
    (tmp_path / "test_one.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.skipif(True, reason={MISSING + ' torch is not installed'!r})\n"
        "def test_needs_it():\n    pass\n\n"
        "@pytest.mark.skipif(True, reason='another reason')\n"
        "def test_skipped_otherwise():\n    pass\n"
    )
    command = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider"]
    command += ["-q", "-p", "no:xdist", "--rootdir", str(tmp_path), str(tmp_path)]
    environment = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{TESTS.parent}"}
    ci = subprocess.run(command, capture_output=True, text=True, env={**environment, "CI": "true"})
    assert ci.returncode == 1, ci.stdout
    assert "skipped for a missing one: test_one.py::test_needs_it\n" in ci.stdout
    user = {k: v for k, v in environment.items() if k != "CI"}
    done = subprocess.run(command, capture_output=True, text=True, env=user)
    assert done.returncode == 0 and "2 skipped" in done.stdout, done.stdout
