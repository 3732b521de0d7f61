"""The installed package as a user meets it: a backprop-<script> command for every script, each
answering --help from outside the checkout; no top-level common; and the migration check on a
user's pair that imports its own packages named common and utils."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import subprocess
import sys
from pathlib import Path

from script_runner import load, run_in_process, user_environment

from backprop_suite.cli import commands as cli_commands
from backprop_suite.migration.programs import load_module

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "tests" / "fixtures" / "own_packages"
OTHER = ROOT / "tests" / "fixtures" / "other_packages"


def commands() -> dict[str, str]:
    found = importlib.metadata.entry_points(group="console_scripts")
    return {e.name: e.value for e in found if e.name.startswith("backprop-")}


def command_path(name: str) -> Path:
    return Path(sys.executable).with_name(name)


def test_every_script_is_an_installed_command_of_the_same_main():
    """``backprop-NAME`` and ``scripts/NAME.py`` both launch ``backprop_suite.cli.NAME``."""
    scripts = {p.stem for p in (ROOT / "scripts").glob("*.py")}
    assert commands() == {
        f"backprop-{name.replace('_', '-')}": f"backprop_suite.cli.commands:{name}"
        for name in scripts
    }
    for name in scripts:
        assert f'launch("{name}")' in (ROOT / "scripts" / f"{name}.py").read_text()
        assert f'launch("{name}")' in inspect.getsource(getattr(cli_commands, name))
        assert callable(importlib.import_module(f"backprop_suite.cli.{name}").run)


def test_every_command_answers_help_from_outside_the_checkout(tmp_path):
    for name in commands():
        done = subprocess.run(
            [str(command_path(name)), "--help"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=user_environment(),
        )
        assert done.returncode == 0 and done.stdout.startswith("usage: "), name + done.stderr
        assert done.stderr == "", name + done.stderr


def test_no_top_level_common_or_xor_sweep_is_installed(tmp_path):
    program = "import importlib.util as u; print([u.find_spec(n) is None for n in NAMES])"
    program = program.replace("NAMES", "('common', 'xor_sweep', 'backprop_suite', 'tf_impl')")
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.split() == ["[True,", "True,", "False,", "False]"]


def test_a_users_own_common_and_utils_packages_are_the_ones_its_programs_import():
    load_module(OTHER / "program.py")  # another common, imported first in this process
    done = run_in_process(load("check_migration"), OWN / "tf1.py", OWN / "keras3.py", "--steps", 3)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "agree" in done.stdout.splitlines()[-1]


def test_the_installed_check_passes_that_pair_from_outside_the_checkout(tmp_path):
    done = subprocess.run(
        [str(command_path("backprop-check-migration")), OWN / "tf1.py", OWN / "keras3.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=user_environment(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
