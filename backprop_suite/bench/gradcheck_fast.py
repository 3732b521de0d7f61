"""Fast mode on a model of about a million weights: a 1000-1000-10 tanh MLP in float32 on 8
rows (1,011,010 weights), checked with ``fast=True`` when its gradients are right and when its
hidden kernel's custom gradient is doubled; beside them, what one float64 evaluation of the
loss costs, from which the time of a full check follows (nine evaluations a weight).

    python -m backprop_suite.bench.gradcheck_fast [--models 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

ROWS, WIDTH, OUTPUTS = 8, 1000, 10


def doubled_layer():
    """A Dense layer, no bias, whose kernel's custom gradient is twice the true one (its forward
    pass right), so only a gradient check can catch it."""
    import keras
    import tensorflow as tf

    class Doubled(keras.layers.Layer):
        def __init__(self, units: int = 2, **options):
            super().__init__(**options)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, x):
            @tf.custom_gradient
            def forward(x, kernel):
                return tf.matmul(x, kernel), lambda up: (
                    tf.matmul(up, kernel, transpose_b=True),
                    2 * tf.matmul(x, up, transpose_a=True),
                )

            return forward(x, tf.convert_to_tensor(self.kernel))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Doubled


def mlp(seed: int, wrong: bool):
    import keras

    from backprop_suite.seeds import seeded

    with seeded(seed):
        hidden = (
            doubled_layer()(WIDTH, name="hidden")
            if wrong
            else keras.layers.Dense(WIDTH, name="hidden")
        )
        return keras.Sequential(
            [
                keras.Input((WIDTH,)),
                hidden,
                keras.layers.Activation("tanh"),
                keras.layers.Dense(OUTPUTS, name="out"),
            ],
            name="mlp",
        )


def main() -> None:
    import keras

    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
    from backprop_suite.gradcheck.flat_loss import FlatLoss
    from backprop_suite.gradcheck.model_check import cast
    from backprop_suite.gradcheck.model_loss import stateless_loss
    from backprop_suite.gradcheck.reference import float64_copy, loss_in_float64

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=3)
    models = parser.parse_args().models
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(ROWS, WIDTH)), rng.normal(size=(ROWS, OUTPUTS))
    loss = keras.losses.MeanSquaredError()
    for wrong in (False, True):
        seconds, found = [], []
        for seed in range(models):
            model = mlp(seed, wrong)
            start = time.perf_counter()
            try:
                report = check_model_gradients(model, x, y, loss, fast=True)
                found.append("passes: " + ", ".join(v.checked for v in report.variables))
            except GradientMismatch as mismatch:
                found.append(f"fails: {mismatch}")
            seconds.append(time.perf_counter() - start)
        weights = sum(int(v.numpy().size) for v in model.trainable_variables)
        kind = "hidden kernel's gradient doubled" if wrong else "right gradients"
        print(f"{kind}, {weights} weights: {', '.join(f'{s:.2f}' for s in seconds)} s")
        for line in sorted(set(found)):
            print(f"  {line}")
    reference = float64_copy(mlp(0, False))
    values = [np.asarray(v.numpy(), np.float64) for v in reference.trainable_variables]
    weights = sum(v.size for v in values)
    reference_loss = stateless_loss(reference, loss_in_float64(loss), cast(x), cast(y), False)
    flat = FlatLoss(reference_loss, values)
    points = 4096
    flat.shifted(0)(np.arange(points), np.full(points, 1e-3))  # traced once
    times = []
    for _ in range(3):
        start = time.perf_counter()
        flat.shifted(0)(np.arange(points), np.full(points, 1e-3))
        times.append((time.perf_counter() - start) / points)
    each = statistics.median(times)
    print(
        f"one float64 evaluation: {each * 1e3:.2f} ms (median of 3 batches of {points}); a full "
        f"check, nine a weight: {9 * weights * each / 3600:.1f} hours"
    )


if __name__ == "__main__":
    main()
