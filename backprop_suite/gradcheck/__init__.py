"""Cross-check the gradients of your own model or function in a test: the analytic gradients
against float64 finite differences, each element against its dtype's bound, kinks reported, not
failed (``docs/gradcheck.md``).

    from backprop_suite.gradcheck import check_model_gradients

    def test_my_model_gradients():
        check_model_gradients(build_model(), x, y, "mse")
"""

from backprop_suite.quiet import import_tensorflow

import_tensorflow()  # quietly, unless it is imported already

from backprop_suite.gradcheck.api import (  # noqa: E402
    check_function_gradients,
    check_model_gradients,
)
from backprop_suite.gradcheck.check import (  # noqa: E402
    GradientMismatch,
    GradientReport,
    VariableReport,
)

__all__ = [
    "GradientMismatch",
    "GradientReport",
    "VariableReport",
    "check_function_gradients",
    "check_model_gradients",
]
