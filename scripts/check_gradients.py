"""Measure how closely the gradients agree: NumPy by hand, GradientTape, Keras, and
central finite differences, on random float64 weights and data for several nets.

    python scripts/check_gradients.py

Prints, per net, the largest absolute difference of each framework from the hand-written
gradients, and the largest relative error of each against finite differences.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from common import ACTIVATIONS, LOSSES, TrainConfig, init_params  # noqa: E402
from common.gradcheck import central_differences, relative_error  # noqa: E402
from common.registry import IMPLEMENTATIONS, load_implementation  # noqa: E402

NETS = [(2, 3, 1), (2, 2, 2), (3, 5, 2), (2, 4, 3, 2)]


def main() -> int:
    impls = {name: load_implementation(name) for name in IMPLEMENTATIONS}
    print(f"{'net':<10}{'activation':<12}{'loss':<18}{'tf-manual':>11}{'keras-manual':>14}", end="")
    print("".join(f"{name + ' vs fd':>15}" for name in impls))
    worst_abs, worst_rel = 0.0, 0.0
    for case, (layers, activation, loss) in enumerate(
        (net, a, loss) for net in NETS for a in ACTIVATIONS for loss in LOSSES
    ):
        cfg = TrainConfig(layers=layers, activation=activation, loss=loss, dtype="float64")
        rng = np.random.default_rng(case)
        params = {
            k: v + rng.normal(0, 0.3, v.shape) for k, v in init_params(cfg, seed=case).items()
        }
        x = rng.normal(0, 1, (6, layers[0]))
        y = rng.uniform(0, 1, (6, layers[-1]))
        grads = {name: impl.loss_and_grads(params, x, y, cfg)[1] for name, impl in impls.items()}
        numeric = central_differences(
            lambda p, x=x, y=y, cfg=cfg: impls["manual"].loss_and_grads(p, x, y, cfg)[0], params
        )
        absolute = {
            name: max(float(np.max(np.abs(grads[name][k] - grads["manual"][k]))) for k in params)
            for name in ("tf", "keras")
        }
        relative = {
            name: max(relative_error(grads[name][k], numeric[k]) for k in params) for name in impls
        }
        worst_abs = max(worst_abs, *absolute.values())
        worst_rel = max(worst_rel, *relative.values())
        row = f"{'-'.join(map(str, layers)):<10}{activation:<12}{loss:<18}"
        row += f"{absolute['tf']:>11.1e}{absolute['keras']:>14.1e}"
        print(row + "".join(f"{relative[name]:>15.1e}" for name in impls))
    print(f"largest: {worst_abs:.1e} between implementations, ", end="")
    print(f"{worst_rel:.1e} relative to finite differences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
