"""Every loss, activation and optimizer name TrainConfig accepts is handled by every
implementation, to the same numbers; a name none of them knows is a ValueError in each, naming
it, even in a config that skipped TrainConfig's own check (each looks names up through
``backprop_suite.core.config.choice``, never falling through to a default)."""

from __future__ import annotations

import numpy as np
import pytest
from implementations import IMPLEMENTATIONS

import manual_impl
from backprop_suite.core import ACTIVATIONS, LOSSES, TrainConfig, init_params, xor_data
from backprop_suite.core.optimizers import OPTIMIZERS
from backprop_suite.verify.tolerances import BETWEEN_IMPLEMENTATIONS, excess

ARGS = {"momentum": {"momentum": 0.9}}
NAMES = [("loss", n) for n in LOSSES] + [("activation", n) for n in ACTIVATIONS]
NAMES += [("optimizer", n) for n in OPTIMIZERS]


def config(field: str, name: str) -> TrainConfig:
    extra = {"optimizer_args": ARGS[name]} if field == "optimizer" and name in ARGS else {}
    return TrainConfig(steps=3, dtype="float64", **{field: name}, **extra)


def forged(field: str, name: str) -> TrainConfig:
    """A config with a name TrainConfig would refuse, set past its check."""
    cfg = TrainConfig(steps=3, dtype="float64")
    object.__setattr__(cfg, field, name)
    return cfg


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_every_name_is_handled_by_every_implementation_alike(name):
    impl, x, y = IMPLEMENTATIONS[name], *xor_data()
    for field, chosen in NAMES:
        cfg = config(field, chosen)
        params = init_params(cfg)
        ours, reference = impl.train(params, x, y, cfg), manual_impl.train(params, x, y, cfg)
        for key in reference.params:
            bound = BETWEEN_IMPLEMENTATIONS["float64"]
            assert np.all(excess(ours.params[key], reference.params[key], bound) <= 1), (
                name,
                field,
                chosen,
                key,
            )


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("field", ["loss", "activation", "optimizer"])
def test_a_name_no_table_holds_is_refused_by_every_implementation(name, field):
    impl, x, y = IMPLEMENTATIONS[name], *xor_data()
    cfg = forged(field, "no_such_name")
    params = init_params(TrainConfig(dtype="float64"))
    with pytest.raises(ValueError, match=f"unknown {field} 'no_such_name'"):
        impl.train(params, x, y, cfg)
