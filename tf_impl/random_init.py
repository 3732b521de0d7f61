"""The seed program's random draw, ``random_uniform(minval=0.1, maxval=0.9)``, in TF2.

TF1's graph-level seed alone does not carry over: ``tf.random.set_seed(s)`` in TF2 draws other
numbers than ``tf.set_random_seed(s)`` in a TF1 graph. With an op-level seed on each draw as well,
TF2 draws the TF1 weights bit for bit (``backprop_suite.reference.tf1.draw_weights`` is the TF1
side).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from backprop_suite.core import TrainConfig
from backprop_suite.core.init import UNIFORM_HIGH, UNIFORM_LOW, per_weight_seeds
from backprop_suite.seeds import seeded


def draw_weights(
    cfg: TrainConfig, graph_seed: int, op_seeds: Sequence[int] | None = None
) -> dict[str, np.ndarray]:
    """m1, b1, … drawn eagerly as the seed does, after ``tf.random.set_seed(graph_seed)``;
    ``op_seeds`` gives each draw its own seed, in the order m1, b1, m2, b2, … The global
    seed is put back after."""
    shapes = cfg.param_shapes()
    seeds = per_weight_seeds(cfg, op_seeds)
    with seeded():
        tf.random.set_seed(graph_seed)
        return {
            key: tf.random.uniform(
                shape, minval=UNIFORM_LOW, maxval=UNIFORM_HIGH, dtype=cfg.dtype, seed=seed
            ).numpy()
            for (key, shape), seed in zip(shapes.items(), seeds)
        }
