"""K nets of one structure trained at once: the seed's backprop on stacked weights, in NumPy.

Inside, each weight is held as (fan_in, fan_out, K) and each layer's output as (samples, width,
K): the K nets sit on the last axis, so every operation runs over K contiguous numbers, and a
matrix product becomes a sum over the input axis of broadcast products, one input unit at a time.
The chain rule is ``network.backward_steps``' own, written for the stacked layout; the
optimizers and the activations' derivatives are the single net's functions, which are
elementwise, and so are the activations but the sigmoid, computed here in its faster form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from backprop_suite.core import TrainConfig, check_data, require_one_device, step_batches
from backprop_suite.core.batching import is_full_batch
from backprop_suite.core.config import choice
from backprop_suite.core.many import ManyResult, check_stack
from manual_impl.activations import ACTIVATIONS
from manual_impl.losses import dloss_dyout, loss_value
from manual_impl.optimizers import Optimizer


def product(h: np.ndarray, m: np.ndarray) -> np.ndarray:
    """h · m for every net: h (samples, fan_in, K or 1), m (fan_in, fan_out, K) ->
    (samples, fan_out, K), summed over the inputs in order, as ``h @ m`` sums them."""
    total = h[:, 0, None, :] * m[0]
    for i in range(1, m.shape[0]):
        total += h[:, i, None, :] * m[i]
    return total


def sigmoid(net: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-net)): 12x faster in float32 than the single net's logaddexp form, and
    # within one rounding of it; exp overflows to inf for net < -88 (float32), giving 0, as it
    # should (the caller ignores the overflow)
    return 1 / (1 + np.exp(-net))


def activation_of(cfg: TrainConfig):
    activation, _ = choice("activation", cfg.activation, ACTIVATIONS)
    return sigmoid if cfg.activation == "sigmoid" else activation


def layer_outputs(params: Mapping[str, np.ndarray], x0: np.ndarray, cfg: TrainConfig) -> list:
    """[x0, h1, …, y_out] for every net; x0 as (samples, inputs, 1), shared by all."""
    activation = activation_of(cfg)
    h = [x0[:, :, None]]
    for layer in range(1, cfg.depth + 1):
        h.append(activation(product(h[-1], params[f"m{layer}"]) + params[f"b{layer}"]))
    return h


def losses_of(cfg: TrainConfig, y0: np.ndarray, y_out: np.ndarray) -> np.ndarray:
    """Each net's loss, (K,)."""
    total = np.square(y0[:, :, None] - y_out).sum(axis=(0, 1))
    return loss_value(cfg.loss, total, y0.size)


def backward(params: Mapping[str, np.ndarray], h: list, y0: np.ndarray, cfg: TrainConfig) -> dict:
    """dloss/dm_i (fan_in, fan_out, K) and dloss/db_i (fan_out, K) for every net."""
    _, activation_derivative = choice("activation", cfg.activation, ACTIVATIONS)
    grads = {}
    dloss_dh = dloss_dyout(cfg.loss, y0[:, :, None] - h[-1], y0.size)
    for layer in range(cfg.depth, 0, -1):
        dloss_dnet = dloss_dh * activation_derivative(h[layer])
        # dnet/dm = h_prev: the sum over samples of h_prev[n, i] · dloss_dnet[n, j]
        grads[f"m{layer}"] = (h[layer - 1][:, :, None, :] * dloss_dnet[:, None, :, :]).sum(axis=0)
        grads[f"b{layer}"] = dloss_dnet.sum(axis=0)
        if layer > 1:
            m = params[f"m{layer}"]  # dnet/dh_prev = m
            dloss_dh = (dloss_dnet[:, None, :, :] * m[None]).sum(axis=2)
    return {key: grads[key] for key in params}


Watch = Callable[[int, np.ndarray], None]


def train_many(
    params_stack: Mapping[str, object],
    x: object,
    y: object,
    cfg: TrainConfig,
    watch: Watch | None = None,
    record_losses: bool = True,
) -> ManyResult:
    """Train K nets at once, net k from ``params_stack[key][k]``; per net, what ``train``
    gives it. Every net sees the same batches (one permutation per epoch when shuffled).

    ``watch(updates, y_out)``, if given, is called for ``updates`` = 0, 1, …, ``cfg.steps`` with
    every net's outputs on all the training rows after that many updates, (K, samples, outputs).
    ``record_losses=False`` leaves the per-step losses out (the result's are (K, 0)): a long run
    of many nets would hold K x steps of them."""
    stack = check_stack(params_stack, cfg)
    x0, y0 = check_data(x, y, cfg)
    require_one_device(cfg, "manual_impl.train_many")
    params = {key: np.ascontiguousarray(np.moveaxis(value, 0, -1)) for key, value in stack.items()}
    optimizer = Optimizer(params, cfg)
    count = next(iter(stack.values())).shape[0]
    losses = np.empty((cfg.steps if record_losses else 0, count), dtype=cfg.dtype)
    full_batch = is_full_batch(len(x0), cfg)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence shows as NaN in losses
        for step, rows in enumerate(step_batches(len(x0), cfg)):
            x_batch, y_batch = (x0, y0) if full_batch else (x0[rows], y0[rows])
            h = layer_outputs(params, x_batch, cfg)
            if watch is not None:
                seen = h[-1] if full_batch else layer_outputs(params, x0, cfg)[-1]
                watch(step, np.moveaxis(seen, -1, 0))
            if record_losses:
                losses[step] = losses_of(cfg, y_batch, h[-1])
            optimizer.apply(params, backward(params, h, y_batch, cfg))
        y_out = layer_outputs(params, x0, cfg)[-1]
        if watch is not None:
            watch(cfg.steps, np.moveaxis(y_out, -1, 0))
    return ManyResult(
        params={key: np.moveaxis(value, -1, 0) for key, value in params.items()},
        losses=losses.T.copy(),
        outputs=np.moveaxis(y_out, -1, 0).copy(),
    )
