"""The floors of the package, read from the imports of its files: the core imports no
TensorFlow and nothing above it; the migration check imports no port of the seed (it judges
other people's); nothing of the suite imports a top-level common or xor_sweep."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "backprop_suite"


def imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth of it (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports_of(folder: Path) -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): imported(p) for p in sorted(folder.rglob("*.py"))}


def offending(folder: Path, roots: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for name, modules in imports_of(folder).items():
        bad = sorted(m for m in modules if m.split(".")[0] in roots or m.startswith(roots))
        if bad:
            found[name] = bad
    return found


def test_the_core_imports_no_framework_and_nothing_above_it():
    above = ("tensorflow", "keras", "jax", "torch", "tf_impl", "keras_impl", "manual_impl")
    above += ("backprop_suite.verify", "backprop_suite.cli", "backprop_suite.migration")
    assert offending(PACKAGE / "core", above) == {}


def test_the_migration_check_imports_no_port_of_the_seed():
    assert offending(PACKAGE / "migration", ("tf_impl", "keras_impl", "manual_impl")) == {}


@pytest.mark.parametrize("folder", ["backprop_suite", "tf_impl", "keras_impl", "manual_impl"])
def test_nothing_imports_the_old_top_level_packages(folder):
    assert offending(ROOT / folder, ("common", "xor_sweep")) == {}
