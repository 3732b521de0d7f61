"""Cross-check the gradients of your own model or function in a test: the analytic gradients
against float64 finite differences, each element against its dtype's bound, kinks reported, not
failed (``docs/gradcheck.md``).

    from backprop_suite.gradcheck import check_model_gradients

    def test_my_model_gradients():
        check_model_gradients(build_model(), x, y, "mse")
"""

from backprop_suite.quiet import import_tensorflow

import_tensorflow()  # quietly, unless it is imported already

from backprop_suite.gradcheck.check import (  # noqa: E402
    GradientMismatch,
    GradientReport,
    VariableReport,
)
from backprop_suite.gradcheck.function_check import check_function_gradients  # noqa: E402
from backprop_suite.gradcheck.model_check import check_model_gradients  # noqa: E402

__all__ = [
    "GradientMismatch",
    "GradientReport",
    "VariableReport",
    "check_function_gradients",
    "check_model_gradients",
]
