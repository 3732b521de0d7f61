"""Optional dependencies: a test that needs one skips where it is missing, with a reason that
says what to install. CI installs them all, and ``conftest.py`` fails a CI run in which any test
skipped for one."""

from __future__ import annotations

import importlib.util

import pytest

from backprop_suite.verify.registry import BACKEND_INSTALL

MISSING = "needs an optional dependency:"
INSTALL = {
    **BACKEND_INSTALL,
    "tf_keras": 'tf_keras is in the dev extra: python -m pip install -e ".[dev]"',
}


def needs(module: str) -> pytest.MarkDecorator:
    """Skip unless ``module`` can be imported; the reason names it and how to install it."""
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"{MISSING} {module} is not installed; {INSTALL[module]}",
    )


def skipped_for_a_missing_dependency(report: pytest.TestReport) -> bool:
    """True for the report of a test that ``needs`` skipped."""
    return report.skipped and MISSING in str(report.longrepr)
