"""Time Keras's training modes on the backend ``KERAS_BACKEND`` names, against the TF1 Session
loop timed in the same process (``scripts/bench.py --backends`` starts it).

    KERAS_BACKEND=jax python -m backprop_suite.bench.backends STEPS REPEATS

Prints one JSON list: per mode the cold first call and the median of ``REPEATS`` warm calls, in
seconds, and the ratio of that median to the TF1 loop's.
"""

from __future__ import annotations

import json
import os

import keras

import keras_impl
from backprop_suite.bench.timing import first_and_median
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.reference import tf1 as tf1_reference


def modes(cfg: TrainConfig) -> dict:
    backend = {"tensorflow": "TF", "jax": "JAX", "torch": "PyTorch"}[keras.backend.backend()]
    found = {
        f"Keras on {backend}, one epoch (keras_impl default)": ("one_epoch", None),
        f"Keras on {backend}, train_on_batch": ("train_on_batch", None),
        f"Keras on {backend}, fit(epochs=steps)": ("epoch_per_step", None),
    }
    if backend == "JAX":
        found = {
            "Keras on JAX, one epoch, XLA (keras_impl default)": ("one_epoch", "1"),
            "Keras on JAX, one epoch, no XLA": ("one_epoch", "0"),
            "Keras on JAX, train_on_batch, XLA": ("train_on_batch", "1"),
        }
    return found


def main(steps: int, repeats: int) -> int:
    cfg = TrainConfig(steps=steps)
    x, y = xor_data()
    params = init_params(cfg)
    session = tf1_reference.SessionTrainer(cfg)
    rows = [
        dict(
            zip(
                ("mode", "first_s", "median_s"),
                ("TF1 Session loop", *first_and_median(lambda: session.run(params, x, y), repeats)),
            )
        )
    ]
    for name, (mode, jit) in modes(cfg).items():
        if jit is not None:
            os.environ["KERAS_JAX_JIT"] = jit
        run = lambda mode=mode: keras_impl.train(params, x, y, cfg, mode=mode)  # noqa: E731
        first, median = first_and_median(run, repeats)
        rows.append({"mode": name, "first_s": first, "median_s": median})
    for row in rows:
        row["ratio_to_tf1"] = row["median_s"] / rows[0]["median_s"]
    print(json.dumps(rows[1:]))
    return 0
