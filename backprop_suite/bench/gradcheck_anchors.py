"""``backprop_suite.gradcheck`` beside the checkers it is measured against, on the same cases:
``torch.autograd.gradcheck`` (its defaults), ``jax.test_util.check_grads`` (reverse mode, its
per-dtype defaults) and ``tf.test.compute_gradient`` (its two Jacobians compared with
``np.allclose(atol=1e-5, rtol=1e-3)``, torch's defaults, since it leaves the comparison to its
user). For each: which of five wrong custom gradients it catches, in float64 and float32, its
false alarms on a correct two-layer tanh regression (25 weights) over seeds, and its median time
a check, also as a multiple of torch's. Then the same regression with 500 weights (float64, a
few seeds), where ours traces its evaluations, beside ours held to eager calls and torch.

    python -m backprop_suite.bench.gradcheck_anchors [--seeds 100]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

WRONG = ("doubled", "wrong sign", "transposed", "product term dropped", "reduction ignored")


def inputs(case: str, dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    x, y, w, a, b = (rng.normal(size=s) + 0.1 for s in [(4, 3), (4, 3), (3, 3), (3,), (3,)])
    found = {"transposed": [x, w], "product term dropped": [a, b], "reduction ignored": [x, y]}
    return [v.astype(dtype) for v in found.get(case, [a])]


SMALL = (3, 5, 2, 6)  # inputs, hidden units, outputs, rows: 25 weights
LARGE = (20, 20, 5, 32)  # 500 weights


def regression(seed: int, dtype: str, size: tuple = SMALL) -> list[np.ndarray]:
    inputs, hidden, outputs, _ = size
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(inputs, hidden)).astype(dtype),
        rng.normal(size=(hidden, outputs)).astype(dtype),
    ]


def regression_data(seed: int, dtype: str, size: tuple = SMALL):
    inputs, _, outputs, rows = size
    rng = np.random.default_rng(seed + 1000)
    return rng.normal(size=(rows, inputs)).astype(dtype), rng.normal(size=(rows, outputs)).astype(
        dtype
    )


def tf_functions():
    import tensorflow as tf

    @tf.custom_gradient
    def doubled(x):
        return x * x, lambda up: up * 4 * x

    @tf.custom_gradient
    def wrong_sign(x):
        return x * x, lambda up: -up * 2 * x

    @tf.custom_gradient
    def transposed(x, w):
        def grad(up):
            return tf.matmul(up, w, transpose_b=True), tf.transpose(
                tf.matmul(x, up, transpose_a=True)
            )

        return tf.matmul(x, w), grad

    @tf.custom_gradient
    def product(a, b):
        return a * b * tf.sin(a), lambda up: (up * a * b * tf.cos(a), up * a * tf.sin(a))

    @tf.custom_gradient
    def reduction(p, y):
        n = tf.cast(tf.size(p), p.dtype)
        return tf.reduce_sum((p - y) ** 2) / n, lambda up: (up * 2 * (p - y), -up * 2 * (p - y))

    return dict(zip(WRONG, (doubled, wrong_sign, transposed, product, reduction)))


def tf_regression(seed: int, dtype: str, size: tuple = SMALL):
    import tensorflow as tf

    x, y = regression_data(seed, dtype, size)

    def loss(w1, w2):  # the data in the weights' dtype: gradcheck calls it in float64 too
        inputs, targets = tf.cast(x, w1.dtype), tf.cast(y, w1.dtype)
        return tf.reduce_mean((tf.matmul(tf.tanh(tf.matmul(inputs, w1)), w2) - targets) ** 2)

    return loss


def torch_functions():
    import torch

    def function(forward, backward):
        class Custom(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                ctx.save_for_backward(*args)
                return forward(*args)

            @staticmethod
            def backward(ctx, up):
                return backward(up, *ctx.saved_tensors)

        return Custom.apply

    return {
        "doubled": function(lambda x: x * x, lambda up, x: up * 4 * x),
        "wrong sign": function(lambda x: x * x, lambda up, x: -up * 2 * x),
        "transposed": function(lambda x, w: x @ w, lambda up, x, w: (up @ w.T, (x.T @ up).T)),
        "product term dropped": function(
            lambda a, b: a * b * torch.sin(a),
            lambda up, a, b: (up * a * b * torch.cos(a), up * a * torch.sin(a)),
        ),
        "reduction ignored": function(
            lambda p, y: ((p - y) ** 2).sum() / p.numel(),
            lambda up, p, y: (up * 2 * (p - y), -up * 2 * (p - y)),
        ),
    }


def jax_functions():
    import jax
    import jax.numpy as jnp

    def function(forward, backward):
        custom = jax.custom_vjp(forward)
        custom.defvjp(lambda *args: (forward(*args), args), lambda saved, up: backward(up, *saved))
        return custom

    return {
        "doubled": function(lambda x: x * x, lambda up, x: (up * 4 * x,)),
        "wrong sign": function(lambda x: x * x, lambda up, x: (-up * 2 * x,)),
        "transposed": function(lambda x, w: x @ w, lambda up, x, w: (up @ w.T, (x.T @ up).T)),
        "product term dropped": function(
            lambda a, b: a * b * jnp.sin(a),
            lambda up, a, b: (up * a * b * jnp.cos(a), up * a * jnp.sin(a)),
        ),
        "reduction ignored": function(
            lambda p, y: jnp.sum((p - y) ** 2) / p.size,
            lambda up, p, y: (up * 2 * (p - y), -up * 2 * (p - y)),
        ),
    }


def ours(fn, args) -> bool:
    from backprop_suite.gradcheck import GradientMismatch, check_function_gradients

    try:
        check_function_gradients(fn, *args)
    except GradientMismatch:
        return False
    return True


def torch_check(fn, args) -> bool:
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in args]
    return bool(torch.autograd.gradcheck(fn, tensors, raise_exception=False))


def jax_check(fn, args) -> bool:
    import jax.numpy as jnp
    from jax.test_util import check_grads

    try:
        check_grads(fn, [jnp.asarray(a) for a in args], order=1, modes=("rev",))
    except AssertionError:
        return False
    return True


def tf_check(fn, args) -> bool:
    import tensorflow as tf

    theoretical, numerical = tf.test.compute_gradient(fn, [tf.constant(a) for a in args])
    return all(np.allclose(t, n, atol=1e-5, rtol=1e-3) for t, n in zip(theoretical, numerical))


def torch_regression(seed: int, dtype: str, size: tuple = SMALL):
    import torch

    x, y = (torch.tensor(v) for v in regression_data(seed, dtype, size))
    return lambda w1, w2: ((torch.tanh(x @ w1) @ w2 - y) ** 2).mean()


def jax_regression(seed: int, dtype: str, size: tuple = SMALL):
    import jax.numpy as jnp

    x, y = (jnp.asarray(v) for v in regression_data(seed, dtype, size))
    return lambda w1, w2: jnp.mean((jnp.tanh(x @ w1) @ w2 - y) ** 2)


def timed(check, fn, args) -> tuple[bool, float]:
    start = time.perf_counter()
    passed = check(fn, args)
    return passed, time.perf_counter() - start


def ours_eager(fn, args) -> bool:
    """``ours`` with every evaluation an eager call, as before the traced loop."""
    from backprop_suite.gradcheck.function_values import forced

    with forced("eager"):
        return ours(fn, args)


def median_seconds(check, correct, dtype: str, seeds: int, size: tuple = SMALL) -> tuple:
    """The false alarms of ``check`` on ``correct`` over ``seeds`` and its median seconds."""
    runs = [timed(check, correct(s, dtype, size), regression(s, dtype, size)) for s in range(seeds)]
    return sum(not passed for passed, _ in runs), statistics.median(t for _, t in runs)


def main() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 arrays stay float64
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    seeds = parser.parse_args().seeds
    tools = {
        "backprop_suite.gradcheck": (ours, tf_functions, tf_regression),
        "torch.autograd.gradcheck": (torch_check, torch_functions, torch_regression),
        "jax check_grads": (jax_check, jax_functions, jax_regression),
        "tf.test.compute_gradient": (tf_check, tf_functions, tf_regression),
    }
    found = {}
    for name, (check, functions, correct) in tools.items():
        cases = functions()
        for dtype in ("float64", "float32"):
            caught = [c for c in WRONG if not check(cases[c], inputs(c, dtype))]
            found[name, dtype] = (caught, *median_seconds(check, correct, dtype, seeds))
    for (name, dtype), (caught, alarms, seconds) in found.items():
        torchs = found["torch.autograd.gradcheck", dtype][2]
        print(
            f"{name} {dtype}: catches {len(caught)} of {len(WRONG)} wrong gradients"
            f" (misses {[c for c in WRONG if c not in caught]}); false alarms on the correct"
            f" regression {alarms} of {seeds}; median {seconds * 1000:.1f} ms a check,"
            f" {seconds / torchs:.1f} x torch's"
        )
    large = {
        "backprop_suite.gradcheck": (ours, tf_regression),
        "backprop_suite.gradcheck, eager calls only": (ours_eager, tf_regression),
        "torch.autograd.gradcheck": (torch_check, torch_regression),
    }
    times = {}
    for name, (check, correct) in large.items():
        times[name] = median_seconds(check, correct, "float64", min(seeds, 5), LARGE)
    for name, (alarms, seconds) in times.items():
        ratio = seconds / times["torch.autograd.gradcheck"][1]
        print(
            f"{name} float64, the regression with 500 weights: false alarms {alarms} of"
            f" {min(seeds, 5)}; median {seconds * 1000:.1f} ms a check, {ratio:.1f} x torch's"
        )


if __name__ == "__main__":
    main()
