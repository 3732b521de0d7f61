"""An optimizer's state carried from a TF1 checkpoint into a Keras 3 port's optimizer, so that
training resumes where TF1 stopped.

TF1 names a variable's slots ``{variable}/{optimizer's name}``, then ``_1``, ``_2``, in the order
its optimizer makes them: Adam ``m, v``; RMSProp ``rms, momentum`` (centered: ``rms, mg,
momentum``); momentum ``momentum``; Adagrad ``accumulator``. Adam also keeps ``beta1_power``
and ``beta2_power``, which are β^(t+1) after t steps. A slot is carried by the linear part of
its variable's ``WEIGHT_MAP`` transform (a slot is a sum of gradients, so it moves as they do;
the forget bias's constant is not added to it).

The port's optimizers with a known mapping (``port_slots``): the suite's ``TF1Adam``,
``TF1RMSProp`` and ``TF1Momentum`` (TF1's slots, named alike) and Keras's ``Adam`` (without
amsgrad), ``RMSprop`` and ``Adagrad``, whose slots hold the same sums. Keras's ``SGD`` with
momentum keeps −rate · accumulation, which no slot holds at a decayed rate: not carried.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

TF1_SLOTS = {
    "adam": ("m", "v"),
    "momentum": ("momentum",),
    "rmsprop": ("rms", "momentum"),
    "rmsprop centered": ("rms", "mg", "momentum"),
    "adagrad": ("accumulator",),
    "sgd": (),
}


def port_slots(optimizer) -> tuple[str, dict[str, list]] | str:
    """The TF1 optimizer whose state ``optimizer`` continues and its per-variable slots by TF1's
    slot names; or, where there is no such mapping, why."""
    import keras

    name = type(optimizer).__name__
    if name == "TF1Adam":
        return "adam", {"m": optimizer.m, "v": optimizer.v}
    if name == "TF1Momentum":
        return "momentum", {"momentum": optimizer.accumulations}
    if name == "TF1RMSProp":
        slots = {"rms": optimizer.rms, "momentum": optimizer.mom}
        if optimizer.centered:
            return "rmsprop centered", {**slots, "mg": optimizer.mg}
        return "rmsprop", slots
    if isinstance(optimizer, keras.optimizers.Adam):
        if optimizer.amsgrad:
            return "Keras's Adam(amsgrad=True) keeps a maximum TF1's Adam has not"
        return "adam", {"m": optimizer._momentums, "v": optimizer._velocities}
    if isinstance(optimizer, keras.optimizers.RMSprop):
        slots = {"rms": optimizer._velocities}
        slots |= {"momentum": optimizer._momentums} if optimizer.momentum else {}
        if optimizer.centered:
            return "rmsprop centered", {**slots, "mg": optimizer._average_gradients}
        return "rmsprop", slots
    if isinstance(optimizer, keras.optimizers.Adagrad):
        return "adagrad", {"accumulator": optimizer._accumulators}
    if isinstance(optimizer, keras.optimizers.SGD):
        if optimizer.momentum:
            return (
                "Keras's SGD(momentum=...) keeps -rate * accumulation where TF1 keeps the "
                "accumulation; use keras_impl.optimizers.TF1Momentum"
            )
        return "sgd", {}
    return f"{name}: no known mapping of TF1's slots into it"


def slot_keys(values: dict, name: str) -> list[str]:
    """The checkpoint's slots of TF1 variable ``name``, in the order the optimizer made them."""

    def order(key: str) -> int:
        found = re.search(r"_(\d+)$", key)
        return int(found.group(1)) if found else 0

    keys = [k for k in values if k.startswith(f"{name}/") and "/" not in k[len(name) + 1 :]]
    return sorted(keys, key=order)


def beta_powers(values: dict) -> tuple[str, str] | None:
    """The checkpoint's ``beta1_power`` and ``beta2_power`` (one Adam only)."""
    found = [[k for k in values if re.fullmatch(rf"beta{i}_power(_\d+)?", k)] for i in (1, 2)]
    if all(len(keys) == 1 for keys in found):
        return found[0][0], found[1][0]
    return None


@dataclass
class Carried:
    """The checkpoint entries carried into the port's optimizer, and what was not, with why."""

    kind: str | None = None
    carried: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def carry_slots(values: dict, tf1_names: list[str], links: list, port, steps_mapped: bool):
    """Carry every trained variable's slots (and Adam's β powers) from ``values`` into the
    port's (built) optimizer; ``steps_mapped``: ``WEIGHT_MAP`` carries the step counter into
    the optimizer's iterations already, else Adam's is β1_power's exponent."""
    optimizer = getattr(getattr(port, "model", None), "optimizer", None)
    if optimizer is None:
        return Carried(missing=["a hand-written port: its optimizer's state is its own"])
    found = port_slots(optimizer)
    if isinstance(found, str):
        return Carried(missing=[found])
    kind, lists = found
    result = Carried(kind)
    order = TF1_SLOTS[kind]
    for link in links:
        name = tf1_names[link.tf1]
        keys = slot_keys(values, name)
        if len(keys) != len(order):
            result.missing.append(
                f"{name}: the checkpoint holds {keys or 'no slots'}, where TF1's "
                f"{kind} optimizer keeps {list(order) or 'none'}"
            )
            continue
        variable = port.variables[link.port]
        index = optimizer._get_variable_index(variable)
        for slot, key in zip(order, keys):
            if slot in lists:
                target = lists[slot][index]
                target.assign(link.carry_gradient(values[key]).astype(target.dtype))
                result.carried.append(key)
    if kind == "adam":
        carry_beta_powers(values, optimizer, result, steps_mapped)
    return result


def carry_beta_powers(values: dict, optimizer, result: Carried, steps_mapped: bool) -> None:
    powers = beta_powers(values)
    if powers is None:
        result.missing.append("Adam's beta1_power and beta2_power: not one of each in it")
        return
    beta1 = getattr(optimizer, "beta1", getattr(optimizer, "beta_1", None))
    if hasattr(optimizer, "beta1_power"):
        for key, target in zip(powers, (optimizer.beta1_power, optimizer.beta2_power)):
            target.assign(np.asarray(values[key]).astype(target.dtype))
        result.carried += list(powers)
    if steps_mapped:
        return
    exponent = math.log(float(values[powers[0]])) / math.log(beta1)
    steps = round(exponent) - 1
    if steps < 0 or not math.isclose(beta1 ** (steps + 1), float(values[powers[0]]), rel_tol=1e-5):
        result.missing.append(f"the step count: {powers[0]} is no power of beta1 {beta1}")
        return
    optimizer.iterations.assign(steps)
    result.carried.append(f"{powers[0]} as {steps} iterations")
