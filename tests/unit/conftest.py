"""The unit tests run without TensorFlow: a test of this folder that imports it fails, where it
was not imported before (run alone, ``python -m pytest tests/unit`` never starts it)."""

import sys

import pytest


@pytest.fixture(autouse=True)
def no_tensorflow():
    before = "tensorflow" in sys.modules
    yield
    assert before or "tensorflow" not in sys.modules, "this unit test imported TensorFlow"
