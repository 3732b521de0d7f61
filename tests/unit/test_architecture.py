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


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def suite_imports() -> dict[str, set[str]]:
    """Each module of the package and the modules of the package it imports, at any depth of
    it; ``from package import module`` counts as the module."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                deps.add(node.module)
                deps |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
        found[name] = {d for d in deps if d in modules and d != name}
    return found


def test_no_module_of_the_package_imports_itself_through_others():
    graph = suite_imports()
    circles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                circles.append(path[path.index(other) :] + [other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


MIGRATION = "backprop_suite.migration"
# what each part of the migration check may import of the others; the modules directly in the
# folder (options, record, programs, processes, random_ops) are the floor every part stands on
LAYERS = {
    "tf1": set(),
    "port": set(),
    "verdict": {"tf1", "port"},
    "conversion": {"tf1", "port"},
}


def test_the_migration_checks_parts_import_only_the_parts_below_them():
    found = {}
    for module, deps in suite_imports().items():
        if not module.startswith(f"{MIGRATION}."):
            continue
        part = module.split(".")[2]
        for dep in deps:
            if not dep.startswith(f"{MIGRATION}.") or dep.count(".") < 3:
                continue
            other = dep.split(".")[2]
            if part not in LAYERS and other in LAYERS:
                found.setdefault(module, []).append(dep)  # the floor imports no part
            elif part in LAYERS and other in LAYERS and other != part:
                if other not in LAYERS[part]:
                    found.setdefault(module, []).append(dep)
    assert found == {}
