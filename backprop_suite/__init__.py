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

from importlib import import_module

_WHERE = {
    "TrainConfig": "backprop_suite.core",
    "init_params": "backprop_suite.core",
    "load_params": "backprop_suite.core",
    "save_params": "backprop_suite.core",
    "xor_data": "backprop_suite.core",
    "load_implementation": "backprop_suite.verify.registry",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    """The public names, imported when first used: importing the package (as every command does
    before it can catch Ctrl-C) loads nothing else, not even NumPy."""
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'backprop_suite' has no attribute {name!r}")
