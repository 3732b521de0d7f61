"""The backprop reference suite: one XOR network trained several ways and proven identical.

The public API is here; its subpackages are the architecture (README, "Layout"; file by file in
``docs/agreement.md``): ``core`` (the config, data, weights and their checks, no TensorFlow),
``verify`` (comparison, registry, tolerances, finite differences), ``reference`` (the TF1 seed
program), ``cli`` (the ``backprop-*`` commands), ``sweep``, ``bench``, ``figures``,
``distribute``, ``migration`` (the migration check) and ``children`` (the suite's own child
processes).

    from backprop_suite import TrainConfig, init_params, load_implementation, xor_data

    cfg = TrainConfig()
    result = load_implementation("tf").train(init_params(cfg), *xor_data(), cfg)
"""

from backprop_suite.core import TrainConfig, init_params, load_params, save_params, xor_data
from backprop_suite.verify.registry import load_implementation

__all__ = [
    "TrainConfig",
    "init_params",
    "load_implementation",
    "load_params",
    "save_params",
    "xor_data",
]
