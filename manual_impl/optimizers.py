"""TF1's optimizers in NumPy, one update rule each, written as TF1's kernels compute them.

Each rule updates one weight ``var`` in place from its gradient ``grad``, its slots (named as
TF1's ``tf.compat.v1.train`` optimizers name them) and the rate of this step. The rate itself is
TF1's ``exponential_decay`` when the config asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice
from backprop_suite.core.optimizers import slot_starts


def gradient_descent(var, grad, slots, rate, args, state) -> None:
    """var -= rate · grad"""
    var -= rate * grad


def momentum(var, grad, slots, rate, args, state) -> None:
    """accumulation = momentum · accumulation + grad;
    var -= rate · accumulation, or with Nesterov var -= rate · grad + rate · momentum ·
    accumulation. (TF1's slot "momentum", the kernel's ``accum``.)"""
    accumulation = slots["momentum"]
    accumulation *= args["momentum"]
    accumulation += grad
    if args["use_nesterov"]:
        var -= grad * rate + accumulation * args["momentum"] * rate
    else:
        var -= accumulation * rate


def adam(var, grad, slots, rate, args, state) -> None:
    """alpha = rate · √(1 − beta2^t) / (1 − beta1^t);  m += (grad − m)(1 − beta1);
    v += (grad² − v)(1 − beta2);  var -= alpha · m / (√v + epsilon).
    beta1^t and beta2^t are TF1's ``beta1_power`` and ``beta2_power``: variables that start at
    beta1 and beta2 and are multiplied by them after every step."""
    one = var.dtype.type(1)
    m, v = slots["m"], slots["v"]
    alpha = rate * np.sqrt(one - state["beta2_power"]) / (one - state["beta1_power"])
    m += (grad - m) * (one - args["beta1"])
    v += (np.square(grad) - v) * (one - args["beta2"])
    var -= (m * alpha) / (np.sqrt(v) + args["epsilon"])


def rmsprop(var, grad, slots, rate, args, state) -> None:
    """ms += (grad² − ms)(1 − decay);  centered: mg += (grad − mg)(1 − decay),
    denominator = ms − mg² + epsilon, else denominator = ms + epsilon;
    mom = momentum · mom + rate · grad / √denominator;  var -= mom.
    TF1 starts ``ms`` (its slot "rms") at ones, ``mom`` (slot "momentum") and ``mg`` at zeros,
    and puts epsilon inside the square root."""
    one = var.dtype.type(1)
    ms, mom = slots["rms"], slots["momentum"]
    ms += (np.square(grad) - ms) * (one - args["decay"])
    if args["centered"]:
        mg = slots["mg"]
        mg += (grad - mg) * (one - args["decay"])
        denominator = ms - np.square(mg) + args["epsilon"]
    else:
        denominator = ms + args["epsilon"]
    mom *= args["momentum"]
    mom += rate * grad / np.sqrt(denominator)
    var -= mom


def adagrad(var, grad, slots, rate, args, state) -> None:
    """accumulator += grad²;  var -= rate · grad / √accumulator
    (TF1 starts the accumulator at ``initial_accumulator_value``)."""
    accumulator = slots["accumulator"]
    accumulator += np.square(grad)
    var -= rate * grad / np.sqrt(accumulator)


RULES = {
    "sgd": gradient_descent,
    "momentum": momentum,
    "adam": adam,
    "rmsprop": rmsprop,
    "adagrad": adagrad,
}


def initial_slots(var: np.ndarray, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """One weight's slots, as TF1 creates them."""
    starts = slot_starts(cfg.optimizer, cfg.optimizer_args)
    return {name: np.full_like(var, start) for name, start in starts.items()}


class Optimizer:
    """The optimizer ``cfg`` names, with its slots for every weight and its global step."""

    def __init__(self, params: Mapping[str, np.ndarray], cfg: TrainConfig) -> None:
        dtype = np.dtype(cfg.dtype).type
        self.cfg = cfg
        self.rule = choice("optimizer", cfg.optimizer, RULES)
        # hyperparameters as numbers of the weights' dtype, as TF1 casts them to the variable's
        self.args = {
            k: v if isinstance(v, bool) else dtype(v) for k, v in cfg.optimizer_args.items()
        }
        self.slots = {key: initial_slots(var, cfg) for key, var in params.items()}
        self.state = {}
        if cfg.optimizer == "adam":
            self.state = {"beta1_power": self.args["beta1"], "beta2_power": self.args["beta2"]}
        self.global_step = 0
        self.learning_rate = dtype(cfg.learning_rate)

    def rate(self) -> np.floating:
        """This step's rate: TF1's ``exponential_decay(learning_rate, global_step, decay_steps,
        decay_rate, staircase)`` = learning_rate · decay_rate^(global_step / decay_steps), the
        exponent floored when ``staircase``; the learning rate itself without decay."""
        cfg = self.cfg
        if cfg.decay_steps is None:
            return self.learning_rate
        dtype = type(self.learning_rate)
        exponent = dtype(self.global_step) / dtype(cfg.decay_steps)
        if cfg.staircase:
            exponent = np.floor(exponent)
        return self.learning_rate * np.power(dtype(cfg.decay_rate), exponent)

    def apply(self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One update of every weight, in place, then the global step (and Adam's powers)."""
        rate = self.rate()
        for key, grad in grads.items():
            self.rule(params[key], grad, self.slots[key], rate, self.args, self.state)
        if self.cfg.optimizer == "adam":
            self.state["beta1_power"] *= self.args["beta1"]
            self.state["beta2_power"] *= self.args["beta2"]
        self.global_step += 1
