"""How often a gradient check fails a correct model: ``backprop_suite.gradcheck`` against a
fixed-step check in the model's own dtype (step 1e-6, atol 1e-5, rtol 1e-3: torch.autograd
gradcheck's defaults, meant for float64), over seeds of a small MLP; with ``--gallery``,
``backprop_suite.gradcheck`` alone on the Keras 3 ports of the migration gallery
(``examples/migrations``, but the towers, which need two devices), each on its TF1 program's
first batch, its weights drawn anew for every seed.

    python -m backprop_suite.bench.gradcheck_alarms [--seeds 100]
    python -m backprop_suite.bench.gradcheck_alarms --gallery [--fixed-step] [--order 2]
"""

from __future__ import annotations

import argparse

import numpy as np


def fixed_step_alarm(model, x, y, loss, step: float = 1e-6) -> bool:
    """Whether central differences in the model's own dtype, at a fixed step, disagree with its
    analytic gradients beyond atol 1e-5 + rtol 1e-3 anywhere (the loss traced once, so that a
    point costs an assignment and a graph call)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss(y, model(x)))
    grads = tape.gradient(value, model.trainable_variables)
    evaluate = tf.function(lambda: tf.reduce_sum(loss(y, model(x))))
    for variable, grad in zip(model.trainable_variables, grads):
        base = variable.numpy()
        for index in np.ndindex(base.shape):
            moved = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[index] += sign * step
                variable.assign(shifted)
                moved.append(float(evaluate()))
            variable.assign(base)
            numeric = (moved[0] - moved[1]) / (2 * step)
            if abs(float(grad.numpy()[index]) - numeric) > 1e-5 + 1e-3 * abs(numeric):
                return True
    return False


def gallery(seeds: int, fixed_step: bool, order: int) -> None:
    """The gallery's ports: false alarms per program and dtype (of the Hessian-vector product
    too with ``order`` 2); with ``fixed_step``, the fixed-step check's on the same models."""
    import time
    from pathlib import Path

    import keras

    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
    from backprop_suite.migration.programs import load_module

    folder = Path(__file__).resolve().parents[2] / "examples" / "migrations"
    for program in sorted(p for p in folder.iterdir() if (p / "keras3.py").is_file()):
        if program.name == "towers":
            continue
        batch = next(iter(load_module(program / "tf1.py").batches()))
        port = load_module(program / "keras3.py")
        for dtype in ("float32", "float64"):
            alarms, fixed, weights, seconds = 0, 0, 0, []
            for seed in range(seeds):
                keras.utils.set_random_seed(seed)
                built = port.tf2_program(dtype=dtype)
                model = built["model"]
                x, y = batch[built.get("inputs", "x")], batch[built.get("targets", "y")]
                weights = sum(int(v.numpy().size) for v in model.trainable_variables)
                loss = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
                start = time.perf_counter()
                try:
                    check_model_gradients(model, x, y, loss, order=order)
                except GradientMismatch as mismatch:
                    alarms += 1
                    print(f"  {program.name} {dtype} seed {seed}: {mismatch}")
                seconds.append(time.perf_counter() - start)
                if fixed_step:
                    fixed += fixed_step_alarm(model, x.astype(dtype), y.astype(dtype), loss)
            keras.config.set_floatx("float32")
            keras.config.set_dtype_policy("float32")
            print(
                f"{program.name} ({weights} weights) {dtype}: {alarms} of {seeds} seeds failed, "
                f"median {np.median(seconds):.2f} s a check"
                + (f"; the fixed-step check failed {fixed}" if fixed_step else ""),
                flush=True,
            )


def main() -> None:
    import keras

    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--gallery", action="store_true")
    parser.add_argument("--fixed-step", action="store_true", help="--gallery: that check too")
    parser.add_argument("--order", type=int, choices=(1, 2), default=1, help="--gallery: 2 too")
    args = parser.parse_args()
    seeds = args.seeds
    if args.gallery:
        gallery(seeds, args.fixed_step, args.order)
        return
    for dtype in ("float32", "float64"):
        ours = fixed = 0
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            model = keras.Sequential(
                [
                    keras.Input((3,)),
                    keras.layers.Dense(5, activation="tanh", dtype=dtype),
                    keras.layers.Dense(2, dtype=dtype),
                ]
            )
            rng = np.random.default_rng(seed)
            x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
            loss = keras.losses.MeanSquaredError(dtype=dtype)
            try:
                check_model_gradients(model, x, y, loss)
            except GradientMismatch:
                ours += 1
            fixed += fixed_step_alarm(model, x.astype(dtype), y.astype(dtype), loss)
        print(f"{dtype}: false alarms over {seeds} seeds: gradcheck {ours}, fixed step {fixed}")


if __name__ == "__main__":
    main()
