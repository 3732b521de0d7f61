"""A missing optional dependency's message names the extra that installs it, and that extra is
in ``pyproject.toml`` with that dependency in it (the project's name and extras read from there,
not from the code that prints them)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from script_runner import load, one_error_line, run_in_process

from backprop_suite.core.extras import EXTRAS, install_hint
from backprop_suite.verify.registry import BACKEND_INSTALL

tomllib = pytest.importorskip("tomllib")

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]["name"]
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]


def requirement_names(extra: str) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0] for spec in OPTIONAL[extra]}


def test_each_extra_a_message_names_holds_that_dependency_and_dev_holds_them_all():
    assert EXTRAS, "no extras named"
    for module, extra in EXTRAS.items():
        assert module in requirement_names(extra), (module, extra)
        assert module in requirement_names("dev"), module
        assert f'python -m pip install "{PROJECT}[{extra}]"' in install_hint(module)
    assert {"plot", "test"} <= set(OPTIONAL)
    assert "pytest-randomly" in requirement_names("dev")
    # everything another extra installs, dev does too, PyTorch's CUDA wheel aside
    others = set().union(*(requirement_names(e) for e in OPTIONAL if e not in ("dev", "torch")))
    assert others <= requirement_names("dev")


def test_a_missing_backend_names_its_extra():
    assert f'"{PROJECT}[jax]"' in BACKEND_INSTALL["jax"]
    # the torch extra's wheel is a CUDA build: the CPU build comes first, the extra is named
    assert BACKEND_INSTALL["torch"].startswith(
        'install the CPU build: python -m pip install "torch'
    )
    assert f'"{PROJECT}[torch]"' in BACKEND_INSTALL["torch"]


@pytest.fixture
def no_matplotlib(monkeypatch):
    """``import matplotlib`` fails as where it is not installed, and the figure modules import
    it afresh."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for name in [n for n in sys.modules if n.startswith(("matplotlib.", "backprop_suite.figures"))]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("compare", ["--steps", "1", "--plot", "{d}/figures"]),
        ("sweep", ["--seeds", "0:2", "--steps", "1", "--plot", "{d}/figures"]),
        ("bench", ["--quick", "--plot", "{d}/scaling.png"]),
    ],
)
def test_plot_without_matplotlib_names_the_plot_extra(no_matplotlib, tmp_path, name, argv):
    done = run_in_process(load(name), *(arg.format(d=tmp_path) for arg in argv))
    assert one_error_line(done) == (
        f'error: --plot needs matplotlib: python -m pip install "{PROJECT}[plot]"'
    )
    assert not (tmp_path / "figures").exists()
