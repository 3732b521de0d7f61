"""The seed's network in NumPy: forward pass, backward pass by the chain rule, training loop."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from backprop_suite.core import (
    TrainConfig,
    TrainResult,
    check_inputs,
    check_params,
    check_x,
    require_one_device,
    step_batches,
)
from backprop_suite.core.batching import is_full_batch
from backprop_suite.core.config import choice
from manual_impl.activations import ACTIVATIONS
from manual_impl.losses import dloss_dyout, net_loss
from manual_impl.optimizers import Optimizer


def layer_outputs(params: Mapping[str, np.ndarray], x0: np.ndarray, cfg: TrainConfig) -> list:
    """[x0, h1, h2, …, y_out]: each layer's output, h_i = f(h_{i-1} · m_i + b_i)."""
    activation, _ = choice("activation", cfg.activation, ACTIVATIONS)
    h = [x0]
    for layer in range(1, cfg.depth + 1):
        net = h[-1] @ params[f"m{layer}"] + params[f"b{layer}"]
        h.append(activation(net))
    return h


def backward_steps(params: Mapping[str, np.ndarray], h: list, y0: np.ndarray, cfg: TrainConfig):
    """Walk the chain rule from y_out back to x0. For each layer, last first, yield
    (layer, dloss/dh, dh/dnet, dloss/dnet), each (samples, width)."""
    _, activation_derivative = choice("activation", cfg.activation, ACTIVATIONS)
    dloss_dh = dloss_dyout(cfg.loss, y0 - h[-1], y0.size)  # dE/dy_out
    for layer in range(cfg.depth, 0, -1):
        dh_dnet = activation_derivative(h[layer])  # dy_out/dnet for the last layer
        dloss_dnet = dloss_dh * dh_dnet
        yield layer, dloss_dh, dh_dnet, dloss_dnet
        if layer > 1:  # x0 needs no gradient
            dnet_dhprev = params[f"m{layer}"]  # net = h_prev · m + b
            dloss_dh = dloss_dnet @ dnet_dhprev.T


def backward(params: Mapping[str, np.ndarray], h: list, y0: np.ndarray, cfg: TrainConfig) -> dict:
    """dloss/dm_i and dloss/db_i for every layer."""
    grads = {}
    for layer, _, _, dloss_dnet in backward_steps(params, h, y0, cfg):
        dnet_dm = h[layer - 1]
        grads[f"m{layer}"] = dnet_dm.T @ dloss_dnet
        grads[f"b{layer}"] = dloss_dnet.sum(axis=0)  # dnet/db = 1 for every sample
    return {key: grads[key] for key in params}


def forward(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """The network's output y_out for inputs ``x``, shape (n, layers[-1])."""
    params = check_params(params, cfg)
    x0 = check_x(x, cfg)
    return layer_outputs(params, x0, cfg)[-1]


def loss_and_grads(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss on (x, y) and its gradient for every weight, by hand."""
    params, x0, y0 = check_inputs(params, x, y, cfg)
    h = layer_outputs(params, x0, cfg)
    return float(net_loss(cfg.loss, y0, h[-1])), backward(params, h, y0, cfg)


def train(params: Mapping[str, object], x: object, y: object, cfg: TrainConfig) -> TrainResult:
    """``cfg.steps`` updates by ``cfg.optimizer`` (the seed's: m -= learning_rate * dloss/dm)."""
    params, x0, y0 = check_inputs(params, x, y, cfg)
    require_one_device(cfg, "manual_impl")
    optimizer = Optimizer(params, cfg)
    losses = np.empty(cfg.steps, dtype=cfg.dtype)
    full_batch = is_full_batch(len(x0), cfg)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence shows as NaN in losses
        for step, rows in enumerate(step_batches(len(x0), cfg)):
            x_batch, y_batch = (x0, y0) if full_batch else (x0[rows], y0[rows])
            h = layer_outputs(params, x_batch, cfg)
            losses[step] = net_loss(cfg.loss, y_batch, h[-1])
            optimizer.apply(params, backward(params, h, y_batch, cfg))
        y_out = layer_outputs(params, x0, cfg)[-1]
    return TrainResult(params=params, losses=losses, outputs=y_out)
