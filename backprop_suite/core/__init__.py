"""The core every implementation shares: data, configuration, weights, initialisation, batching,
validation and the optimizers' specification.

No TensorFlow here: importing ``backprop_suite.core`` stays cheap and framework-free.
"""

from backprop_suite.core.batching import step_batches
from backprop_suite.core.config import ACTIVATIONS, DTYPES, INITS, LOSSES, TrainConfig
from backprop_suite.core.data import noisy_xor, xor_data
from backprop_suite.core.init import init_params, xavier_limit
from backprop_suite.core.result import TrainResult
from backprop_suite.core.validation import (
    check_data,
    check_inputs,
    check_params,
    check_x,
    require_one_device,
)
from backprop_suite.core.weights_io import load_npz, load_params, save_params

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "INITS",
    "LOSSES",
    "TrainConfig",
    "TrainResult",
    "check_data",
    "check_inputs",
    "check_params",
    "check_x",
    "init_params",
    "load_npz",
    "load_params",
    "noisy_xor",
    "require_one_device",
    "save_params",
    "step_batches",
    "xavier_limit",
    "xor_data",
]
