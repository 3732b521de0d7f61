"""What the three implementations share: data, configuration, weights, validation.

No TensorFlow here: importing ``common`` stays cheap and framework-free.
"""

from common.batching import step_batches
from common.comparison import TOLERANCE
from common.config import ACTIVATIONS, DTYPES, INITS, LOSSES, TrainConfig
from common.data import noisy_xor, xor_data
from common.init import init_params, xavier_limit
from common.result import TrainResult
from common.validation import (
    check_data,
    check_inputs,
    check_params,
    check_x,
    require_one_device,
)
from common.weights_io import load_npz, load_params, save_params

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "INITS",
    "LOSSES",
    "TOLERANCE",
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
