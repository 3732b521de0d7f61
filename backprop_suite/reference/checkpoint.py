"""Carry a TF1 run's actual weights over: read a ``tf.train.Saver`` checkpoint into the
``.npz`` weight format (m1, b1, m2, b2, …)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from backprop_suite.core import TrainConfig, check_params


def tf1_default_names(cfg: TrainConfig) -> dict[str, str]:
    """The names TF1 gives unnamed variables, in creation order: the seed's ``m1, b1, m2, b2``
    are saved as ``Variable, Variable_1, Variable_2, Variable_3``."""
    return {
        key: "Variable" if index == 0 else f"Variable_{index}"
        for index, key in enumerate(cfg.param_shapes())
    }


def load_tf1_checkpoint(
    path: str | os.PathLike, cfg: TrainConfig, names: Mapping[str, str] | None = None
) -> dict[str, np.ndarray]:
    """The weights saved at ``path`` (the prefix ``Saver.save`` returned), checked against ``cfg``.

    ``names`` maps m1, b1, … to checkpoint names. By default the checkpoint's own m1, b1, … are
    used when present, else TF1's names for unnamed variables created in the seed's order.
    """
    try:
        reader = tf.train.load_checkpoint(os.fspath(path))
    except (ValueError, tf.errors.OpError) as error:
        raise ValueError(f"no readable TF checkpoint at {path}: {error}") from None
    saved = reader.get_variable_to_shape_map()
    if names is None:
        names = {key: key for key in cfg.param_shapes()}
        if not all(name in saved for name in names.values()):
            names = tf1_default_names(cfg)
    missing = {key: name for key, name in names.items() if name not in saved}
    if missing:
        raise ValueError(
            f"checkpoint {path} has no variable for {missing}; it holds {sorted(saved)}"
        )
    return check_params({key: reader.get_tensor(name) for key, name in names.items()}, cfg)
