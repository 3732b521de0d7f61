"""Check a TF1 program against its TF2 or Keras 3 port, stage by stage (``check_migration``).

The names below import TensorFlow when first used; ``backprop_suite.migration.options`` and
``backprop_suite.migration.tf1.program.read_data`` check a command line without it."""

from __future__ import annotations

from importlib import import_module

from backprop_suite.quiet import import_tensorflow

_WHERE = {
    "STAGES": "verdict.report",
    "Options": "options",
    "Report": "verdict.report",
    "check_migration": "verdict.check",
    "check_port": "verdict.check",
    "run_tf1": "tf1.run",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        if _WHERE[name] != "options":
            import_tensorflow()
        return getattr(import_module(f"backprop_suite.migration.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'backprop_suite.migration' has no attribute {name!r}")
