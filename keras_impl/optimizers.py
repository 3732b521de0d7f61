"""TF1's optimizers in Keras 3: the optimizer a Keras port should compile with to train what the
TF1 program trained, and the built-ins of the official mapping, kept so their gaps can be measured.

``keras_optimizer(cfg, mapping)``:

- ``"exact"``: what reproduces TF1. Keras's own ``SGD`` and ``Adagrad`` where a setting of them
  does; for momentum, Adam and RMSProp the small ``keras.optimizers.Optimizer`` subclasses
  below, each TF1's kernel written in ``keras.ops`` in the kernel's order of operations, its
  slots named and started as TF1 starts them.
- ``"closest"``: Keras's built-in at the settings that come nearest: every TF1 argument it has,
  each number made by ``in_dtype``, and Adagrad's ``epsilon`` (TF1 has none) 0.
- ``"matched"``: the built-in given TF1's arguments as Python floats, as a migrator writes them.
- ``"defaults"``: the built-in with only the rate (and momentum) given, as TensorFlow's migration
  guide maps the TF1 optimizers.

Keras 3 turns a Python float hyperparameter into a tensor by way of float32 (``ops.cast(0.9,
"float64")`` is 0.9 rounded to float32), also inside ``ExponentialDecay`` and the
``Constant`` initializer: in a float64 model that trains at float32(β). ``in_dtype`` makes
numbers that pass through exactly, and every number of the exact and closest mappings is one
of them. Why each built-in parts from
TF1, and by how much, is in ``docs/migration_guide.md`` section 2b, every gap measured by
``tests/agreement/test_keras_optimizers.py``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from backprop_suite.core import TrainConfig
from backprop_suite.core.config import choice
from backprop_suite.core.optimizers import OPTIMIZERS, slot_starts

MAPPINGS = ("exact", "closest", "matched", "defaults")


def _filled(value):
    """An initializer that fills with ``value`` in the variable's dtype, without float32 on the
    way (``keras.initializers.Constant`` casts a Python float through it)."""
    return lambda shape, dtype: ops.full(shape, value, dtype=dtype)


def _tf1_slots(optimizer, variables, kind: str, args=None) -> dict[str, list]:
    """TF1's slots of ``kind`` for every variable, named and started as TF1 does."""
    return {
        name: [optimizer.add_variable_from_reference(v, name, _filled(start)) for v in variables]
        for name, start in slot_starts(kind, args or {}).items()
    }


def _constants(dtype, *values):
    return [ops.convert_to_tensor(value, dtype=dtype) for value in values]


@keras.saving.register_keras_serializable(package="backprop_suite")
class TF1Momentum(keras.optimizers.Optimizer):
    """TF1's ``MomentumOptimizer``: accumulation = momentum · accumulation + grad, then
    var -= rate · accumulation (Nesterov: var -= rate · grad + rate · momentum · accumulation).

    Bit for bit as TF1 without Nesterov; with it, within rounding (see ``update_step``).

    Keras's ``SGD(momentum=...)`` keeps rate · accumulation instead, negated: the same numbers
    at a constant rate (rounded otherwise unless the rate is a power of two), but when the rate
    decays TF1 applies today's rate to the whole history and Keras each step's own rate."""

    def __init__(
        self,
        learning_rate,
        momentum: float,
        use_nesterov: bool = False,
        name: str = "TF1Momentum",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = momentum
        self.use_nesterov = use_nesterov

    def get_config(self) -> dict:
        own = {"momentum": self.momentum, "use_nesterov": self.use_nesterov}
        return {**super().get_config(), **own}

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self.accumulations = _tf1_slots(self, variables, "momentum")["momentum"]

    def update_step(self, gradient, variable, learning_rate) -> None:
        rate = ops.cast(learning_rate, variable.dtype)
        (momentum,) = _constants(variable.dtype, self.momentum)
        accumulation = self.accumulations[self._get_variable_index(variable)]
        self.assign(accumulation, ops.add(ops.multiply(accumulation, momentum), gradient))
        if self.use_nesterov:
            # TF's graph optimizer (Grappler) hoists the rate out of this sum, as
            # (grad + accumulation · momentum) · rate: that rounds differently from TF1's kernel
            # (tests/agreement/test_keras_optimizers.py measures it and proves the cause)
            step = ops.add(
                ops.multiply(gradient, rate),
                ops.multiply(ops.multiply(accumulation, momentum), rate),
            )
        else:
            step = ops.multiply(accumulation, rate)
        self.assign_sub(variable, step)


@keras.saving.register_keras_serializable(package="backprop_suite")
class TF1Adam(keras.optimizers.Optimizer):
    """TF1's ``AdamOptimizer``: alpha = rate · √(1 − beta2_power) / (1 − beta1_power);
    m += (grad − m)(1 − beta1);  v += (grad² − v)(1 − beta2);  var -= m · alpha / (√v + epsilon);
    after every weight, beta1_power *= beta1 and beta2_power *= beta2.

    Keras's ``Adam`` has the same update but computes beta^t as ``power(beta, t)`` where TF1
    multiplies a variable by beta once per step, casts ``1 - beta2`` from a Python float
    (float32(0.001)) where TF1 subtracts in float32 (0.0009999871), and defaults epsilon to 1e-7
    (TF1: 1e-8)."""

    def __init__(
        self,
        learning_rate,
        beta1: float,
        beta2: float,
        epsilon: float,
        name: str = "TF1Adam",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def get_config(self) -> dict:
        own = {"beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}
        return {**super().get_config(), **own}

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        slots = _tf1_slots(self, variables, "adam")
        self.m, self.v = slots["m"], slots["v"]
        dtype = variables[0].dtype
        self.beta1_power = self.add_variable((), _filled(self.beta1), dtype, name="beta1_power")
        self.beta2_power = self.add_variable((), _filled(self.beta2), dtype, name="beta2_power")

    def update_step(self, gradient, variable, learning_rate) -> None:
        dtype = variable.dtype
        rate = ops.cast(learning_rate, dtype)
        one, beta1, beta2, epsilon = _constants(dtype, 1.0, self.beta1, self.beta2, self.epsilon)
        index = self._get_variable_index(variable)
        m, v = self.m[index], self.v[index]
        alpha = ops.divide(
            ops.multiply(rate, ops.sqrt(ops.subtract(one, self.beta2_power))),
            ops.subtract(one, self.beta1_power),
        )
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), ops.subtract(one, beta1)))
        self.assign_add(
            v, ops.multiply(ops.subtract(ops.square(gradient), v), ops.subtract(one, beta2))
        )
        self.assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), epsilon)))

    def apply(self, grads, trainable_variables=None) -> None:
        super().apply(grads, trainable_variables)
        beta1, beta2 = _constants(self.beta1_power.dtype, self.beta1, self.beta2)
        self.beta1_power.assign(ops.multiply(self.beta1_power, beta1))
        self.beta2_power.assign(ops.multiply(self.beta2_power, beta2))


@keras.saving.register_keras_serializable(package="backprop_suite")
class TF1RMSProp(keras.optimizers.Optimizer):
    """TF1's ``RMSPropOptimizer``: ms += (grad² − ms)(1 − decay);  centered:
    mg += (grad − mg)(1 − decay), denominator = ms − mg² + epsilon, else ms + epsilon;
    mom = momentum · mom + rate · grad / √denominator;  var -= mom.

    TF1 starts ``ms`` (its slot "rms") at ones; Keras's ``RMSprop`` starts its velocity at zeros,
    so its first step is about rate / √(1 − decay) against the gradient's sign whatever the
    gradient's size, where TF1's is rate · grad / √(decay + (1 − decay) grad²); no argument of
    the built-in changes that."""

    def __init__(
        self,
        learning_rate,
        decay: float,
        momentum: float,
        epsilon: float,
        centered: bool,
        name: str = "TF1RMSProp",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.decay, self.momentum, self.epsilon = decay, momentum, epsilon
        self.centered = centered

    def get_config(self) -> dict:
        own = {"decay": self.decay, "momentum": self.momentum, "epsilon": self.epsilon}
        return {**super().get_config(), **own, "centered": self.centered}

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        slots = _tf1_slots(self, variables, "rmsprop", {"centered": self.centered})
        self.rms, self.mom, self.mg = slots["rms"], slots["momentum"], slots.get("mg")
        # a variable, not a constant: Grappler's constant folding would rewrite
        # (ms − mg²) + epsilon as ms − (mg² − epsilon), which rounds differently
        dtype = variables[0].dtype
        self.epsilon_value = self.add_variable((), _filled(self.epsilon), dtype, name="epsilon")

    def update_step(self, gradient, variable, learning_rate) -> None:
        dtype = variable.dtype
        rate = ops.cast(learning_rate, dtype)
        one, decay, momentum = _constants(dtype, 1.0, self.decay, self.momentum)
        epsilon = self.epsilon_value
        index = self._get_variable_index(variable)
        ms, mom = self.rms[index], self.mom[index]
        self.assign_add(ms, ops.multiply(ops.subtract(ops.square(gradient), ms), one - decay))
        if self.centered:
            mg = self.mg[index]
            self.assign_add(mg, ops.multiply(ops.subtract(gradient, mg), one - decay))
            denominator = ops.add(ops.subtract(ms, ops.square(mg)), epsilon)
        else:
            denominator = ops.add(ms, epsilon)
        # divide_no_nan, not divide: TF's graph optimizer (Grappler) rewrites x / sqrt(y) as
        # x * rsqrt(y), which rounds differently from TF1's kernel; √denominator is never 0
        increment = ops.divide_no_nan(ops.multiply(gradient, rate), ops.sqrt(denominator))
        self.assign(mom, ops.add(ops.multiply(mom, momentum), increment))
        self.assign_sub(variable, mom)


def in_dtype(cfg: TrainConfig):
    """Numbers that Keras turns into tensors of the model's dtype exactly, as TF1 rounds them:
    in float64, NumPy float64s (a subclass of ``float``, so the constructors' checks pass); in
    float32, Python floats holding the float32 value (weakly typed, so an expression such as
    ``1 - beta`` or ``sqrt(v) + epsilon`` stays in float32, where a NumPy scalar would promote
    it to float64)."""
    if cfg.dtype == "float64":
        return np.float64
    return lambda value: float(np.float32(value))


def learning_rate(cfg: TrainConfig, scalar=float):
    """The rate, or TF1's ``exponential_decay`` of it as Keras's ``ExponentialDecay`` (which
    computes in the dtype of its initial rate), every number made by ``scalar``."""
    if cfg.decay_steps is None:
        return scalar(cfg.learning_rate)
    return keras.optimizers.schedules.ExponentialDecay(
        scalar(cfg.learning_rate), cfg.decay_steps, scalar(cfg.decay_rate), cfg.staircase
    )


def builtin(cfg: TrainConfig, scalar, epsilon=None) -> keras.optimizers.Optimizer:
    """Keras's built-in for ``cfg.optimizer`` given every TF1 argument it has, each number made
    by ``scalar``; Adagrad's ``epsilon`` as given, Keras's default if None."""
    args, name = cfg.optimizer_args, cfg.optimizer
    rate = learning_rate(cfg, scalar)
    if name == "sgd":
        return keras.optimizers.SGD(rate)
    if name == "momentum":
        return keras.optimizers.SGD(
            rate, momentum=scalar(args["momentum"]), nesterov=args["use_nesterov"]
        )
    if name == "adam":
        return keras.optimizers.Adam(
            rate,
            beta_1=scalar(args["beta1"]),
            beta_2=scalar(args["beta2"]),
            epsilon=scalar(args["epsilon"]),
        )
    if name == "rmsprop":
        return keras.optimizers.RMSprop(
            rate,
            rho=scalar(args["decay"]),
            momentum=scalar(args["momentum"]),
            epsilon=scalar(args["epsilon"]),
            centered=args["centered"],
        )
    extra = {} if epsilon is None else {"epsilon": epsilon}
    initial = scalar(args["initial_accumulator_value"])
    return keras.optimizers.Adagrad(rate, initial_accumulator_value=initial, **extra)


def keras_optimizer(cfg: TrainConfig, mapping: str = "exact") -> keras.optimizers.Optimizer:
    """The Keras optimizer for ``cfg.optimizer`` under ``mapping`` (see the module docstring)."""
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; expected one of {', '.join(MAPPINGS)}")
    choice("optimizer", cfg.optimizer, OPTIMIZERS)
    exact, args, name = in_dtype(cfg), cfg.optimizer_args, cfg.optimizer
    if mapping == "matched" or (mapping == "defaults" and name in ("sgd", "momentum")):
        return builtin(cfg, float)
    if mapping == "defaults":
        return {
            "adam": keras.optimizers.Adam,
            "rmsprop": keras.optimizers.RMSprop,
            "adagrad": keras.optimizers.Adagrad,
        }[name](learning_rate(cfg, float))
    if mapping == "closest" or name in ("sgd", "adagrad"):
        return builtin(cfg, exact, epsilon=exact(0))
    rate = learning_rate(cfg, exact)
    if name == "momentum":
        return TF1Momentum(rate, exact(args["momentum"]), args["use_nesterov"])
    if name == "adam":
        return TF1Adam(rate, *(exact(args[k]) for k in ("beta1", "beta2", "epsilon")))
    return TF1RMSProp(
        rate, *(exact(args[k]) for k in ("decay", "momentum", "epsilon")), args["centered"]
    )
