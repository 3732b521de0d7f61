"""Cross-check the gradients of your own model or function in a test: the analytic gradients
against float64 finite differences, each element against its dtype's bound, kinks reported, not
failed (``docs/gradcheck.md``).

    from backprop_suite.gradcheck import check_model_gradients

    def test_my_model_gradients():
        check_model_gradients(build_model(), x, y, "mse")

The public names are imported when first used, TensorFlow first and quietly: a child process of
``backends`` on JAX or PyTorch imports this package's modules without TensorFlow.
"""

from importlib import import_module

_WHERE = {
    "GradientMismatch": "backprop_suite.gradcheck.check",
    "GradientReport": "backprop_suite.gradcheck.check",
    "VariableReport": "backprop_suite.gradcheck.check",
    "check_function_gradients": "backprop_suite.gradcheck.function_check",
    "check_model_gradients": "backprop_suite.gradcheck.model_check",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        from backprop_suite.quiet import import_tensorflow

        import_tensorflow()  # quietly, unless it is imported already
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'backprop_suite.gradcheck' has no attribute {name!r}")
