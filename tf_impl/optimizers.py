"""TF1's optimizers in the TF2 port, without Keras: slots as ``tf.Variable``s, the update by the
same training kernels TF1's ``tf.compat.v1.train`` optimizers call (``tf.raw_ops.ResourceApply*``).

Calling the kernel TF1 calls, rather than writing its formula again in ``tf`` ops, leaves no room
for another order of operations: the port trains bit for bit as the TF1 graph does, for every
optimizer, with and without decay, in float32 and float64 (``tests/agreement/test_optimizers.py``).
The rate decays as TF1's ``exponential_decay`` computes it, from a step counter that counts as
``minimize(global_step=...)`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice
from backprop_suite.core.optimizers import OPTIMIZERS, slot_starts

raw = tf.raw_ops


class TF1Optimizer:
    """The optimizer ``cfg`` names, for variables of ``cfg``'s structure."""

    def __init__(self, variables: Sequence[tf.Variable], cfg: TrainConfig) -> None:
        self.cfg = cfg
        choice("optimizer", cfg.optimizer, OPTIMIZERS)
        self.args = cfg.optimizer_args
        self.initial = [self._initial_slots(v) for v in variables]
        self.slots = [
            {k: tf.Variable(t, trainable=False) for k, t in s.items()} for s in self.initial
        ]
        self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
        # Adam's beta1_power and beta2_power start at beta1 and beta2 and are multiplied by them
        self.betas = {}
        if cfg.optimizer == "adam":
            self.betas = {f"{b}_power": self._constant(self.args[b]) for b in ("beta1", "beta2")}
        self.powers = {k: tf.Variable(b, trainable=False) for k, b in self.betas.items()}

    def _constant(self, value: float) -> tf.Tensor:
        return tf.constant(value, dtype=self.cfg.dtype)

    def _initial_slots(self, variable: tf.Variable) -> dict[str, tf.Tensor]:
        """TF1's slots for one weight, at their initial values."""
        starts = slot_starts(self.cfg.optimizer, self.args)
        return {name: tf.fill(variable.shape, self._constant(v)) for name, v in starts.items()}

    def reset(self) -> None:
        """Slots, step counter and Adam's powers back to where TF1's initializer puts them."""
        for slots, initial in zip(self.slots, self.initial):
            for key, variable in slots.items():
                variable.assign(initial[key])
        self.global_step.assign(0)
        for key, variable in self.powers.items():
            variable.assign(self.betas[key])

    def rate(self, learning_rate: tf.Tensor) -> tf.Tensor:
        """TF1's ``exponential_decay``: learning_rate · decay_rate^(global_step / decay_steps),
        the exponent floored when ``staircase``."""
        cfg = self.cfg
        if cfg.decay_steps is None:
            return learning_rate
        exponent = tf.cast(self.global_step, cfg.dtype) / tf.cast(cfg.decay_steps, cfg.dtype)
        if cfg.staircase:
            exponent = tf.floor(exponent)
        return learning_rate * tf.pow(self._constant(cfg.decay_rate), exponent)

    def apply(
        self, variables: Sequence[tf.Variable], grads: Sequence[tf.Tensor], learning_rate: tf.Tensor
    ) -> None:
        """One update of every weight, then the step counter (and Adam's powers), as TF1's
        ``apply_gradients`` orders them."""
        rate = self.rate(learning_rate)
        for variable, grad, slots in zip(variables, grads, self.slots):
            self._apply_one(variable, grad, slots, rate)
        for key, power in self.powers.items():
            power.assign(power * self.betas[key])
        self.global_step.assign_add(1)

    def _apply_one(self, variable, grad, slots, rate) -> None:
        args, constant, name = self.args, self._constant, self.cfg.optimizer
        if name == "sgd":
            variable.assign_sub(rate * grad)  # the seed's GradientDescentOptimizer(1.0)
        elif name == "momentum":
            raw.ResourceApplyMomentum(
                var=variable.handle,
                accum=slots["momentum"].handle,
                lr=rate,
                grad=grad,
                momentum=constant(args["momentum"]),
                use_nesterov=args["use_nesterov"],
            )
        elif name == "adam":
            raw.ResourceApplyAdam(
                var=variable.handle,
                m=slots["m"].handle,
                v=slots["v"].handle,
                beta1_power=self.powers["beta1_power"],
                beta2_power=self.powers["beta2_power"],
                lr=rate,
                beta1=constant(args["beta1"]),
                beta2=constant(args["beta2"]),
                epsilon=constant(args["epsilon"]),
                grad=grad,
            )
        elif name == "rmsprop":
            shared = {
                "var": variable.handle,
                "ms": slots["rms"].handle,
                "mom": slots["momentum"].handle,
                "lr": rate,
                "rho": constant(args["decay"]),
                "momentum": constant(args["momentum"]),
                "epsilon": constant(args["epsilon"]),
                "grad": grad,
            }
            if args["centered"]:
                raw.ResourceApplyCenteredRMSProp(mg=slots["mg"].handle, **shared)
            else:
                raw.ResourceApplyRMSProp(**shared)
        else:
            raw.ResourceApplyAdagrad(
                var=variable.handle, accum=slots["accumulator"].handle, lr=rate, grad=grad
            )
