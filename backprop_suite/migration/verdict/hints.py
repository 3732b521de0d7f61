"""Name the cause when a stage disagrees and the cause is a known migration pitfall.

Some causes show in the numbers (a loss that is exactly 1/k of TF1's, or short of it by one of
the terms TF1's loss sums), some in the port's settings (Keras Adam's default epsilon, Keras's
momentum under a schedule that changes the rate where the steps part), and some only by trying the
fix: the forward stage tries the softmax or sigmoid of either side's outputs, then retries the
outputs with each square weight transposed, with an LSTM's gate blocks reordered together with the
forget bias moved, and with each Dropout's rate read as keep_prob; the gradients stage tests
whether a TF1 variable that fills two port variables has the sum of their gradients. A fix that
makes the outputs agree is reported; the port's weights are put back afterwards.
"""

from __future__ import annotations

import itertools

import numpy as np

from backprop_suite.verify.tolerances import difference

TF1_GATES = "ijfo"  # BasicLSTMCell / LSTMCell: input, new input (j), forget, output
KERAS_GATES = "ifco"


def dtype_mismatch(name: str, old, new) -> str:
    return (
        f"{name} is {np.dtype(old).name} in TF1 but the port made it {getattr(new, 'name', new)}: "
        "build the port's layers with the same dtype (keras.layers.Dense(..., dtype=...))"
    )


def _near(value: float, target: float) -> bool:
    return np.isfinite(value) and abs(value - target) <= 1e-4 * abs(target)


def frozen_unloaded(checker) -> str | None:
    """TF1 variables that the loss reads but the optimizer's var_list leaves out (the other
    network of a GAN checked with ``--train-op``) and that the port does not start from TF1's
    values: its own are then whatever it drew."""
    linked = {checker.record.state_names[link.tf1] for link in checker.state}
    reasons = checker.record.meta.get("untrained", {})
    names = [
        name
        for name, why in reasons.items()
        if "a gradient of the loss reaches it" in why and name not in linked
    ]
    if not names:
        return None
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (
        f"TF1's loss reads {shown}, which its optimizer's var_list leaves out and the port does "
        "not start from TF1's values: give them in tf2_program()'s 'state' and name them in "
        "WEIGHT_MAP, so that the port reads the same"
    )


def loss_hint(checker) -> str | None:
    unloaded = frozen_unloaded(checker)
    if unloaded:
        return unloaded
    new = float(np.asarray(checker.port.loss_of(checker.first)))
    old = float(checker.record.loss)
    ratio = new / old if old else np.inf
    first = next(iter(checker.first.values()))
    batch = np.shape(first)[0] if np.ndim(first) else 1
    outputs = checker.record.outputs
    per_row = int(np.prod(np.shape(outputs)[1:])) if outputs is not None else 1
    if _near(ratio, 1 / batch):
        return (
            f"the loss is 1/{batch} of TF1's: a mean over the batch where TF1 summed (Keras losses "
            "average by default; reduction='sum')"
        )
    if per_row > 1 and _near(ratio, 1 / (batch * per_row)):
        return (
            f"the loss is 1/{batch * per_row} of TF1's: a mean over every element where TF1 summed "
            "(Keras's 'mse' averages the last axis too)"
        )
    if _near(ratio, batch):
        return f"the loss is {batch}x TF1's: a sum over the batch where TF1 took the mean"
    for length, axis in _axis_lengths(checker):
        if _near(ratio, 1 / length):
            return (
                f"the loss is 1/{length} of TF1's: a mean over {axis}, of length {length}, where "
                "TF1 summed (Keras's 'mse' and crossentropies average the last axis)"
            )
        if _near(ratio, length):
            return f"the loss is {length}x TF1's: a sum over {axis} where TF1 took the mean"
    if checker.record.dtype == "float64" and new != old and new == float(np.float32(new)):
        return (
            "the port's loss is a float32 number where TF1's is float64: Keras's compiled loss "
            "computes in keras.config.floatx() whatever the layers' dtype "
            "(keras.config.set_floatx('float64') before building the model)"
        )
    for factor in (2.0, 0.5):
        if _near(ratio, factor):
            return (
                f"the loss is {factor:g}x TF1's: one side halves (tf.nn.l2_loss, a 1/(2n)) "
                "and the other does not"
            )
    term = _missing_term(checker, old - new)
    if term is not None:
        return term
    if _reads_logits_as_probabilities(checker):
        return (
            f"the model ends in logits (a layer with no activation) but "
            f"{type(checker.port.model.loss).__name__} reads them as probabilities: "
            "from_logits=True is missing"
        )
    if not np.isfinite(new):
        return "the port's loss is not finite where TF1's is: the loss function or its inputs"
    compared = checker.record.outputs is not None and checker.port.has_outputs
    outputs = "the outputs agree but " if compared else "(the outputs were not compared) "
    return (
        f"{outputs}the loss does not (port/TF1 = {ratio:.6g}): the loss function or its reduction"
    )


def _axis_lengths(checker) -> list[tuple[int, str]]:
    """Each axis after the first of the outputs and of every batch entry: (length, which)."""
    arrays = {f"the feed {name!r}": value for name, value in checker.first.items()}
    if checker.record.outputs is not None:
        arrays = {"the outputs": checker.record.outputs, **arrays}
    return [
        (length, f"axis {axis} of {what}")
        for what, value in arrays.items()
        for axis, length in enumerate(np.shape(value)[1:], start=1)
        if length > 1
    ]


def _missing_term(checker, gap: float) -> str | None:
    """The term of TF1's summed loss that the port's loss lacks, when one equals the gap."""
    for term in checker.record.meta.get("loss_terms", []):
        if gap != 0 and _near(term["value"], gap):
            holds = (
                f" (it holds tf.nn.l2_loss of {', '.join(term['l2_of'])}: Keras's "
                "kernel_regularizer=L2(c / 2) and bias_regularizer=L2(c / 2) give c * l2_loss)"
                if term["l2_of"]
                else ""
            )
            return (
                f"the port's loss is TF1's without its term {term['name']}, "
                f"{term['value']:.6g}{holds}: add it to the port's loss"
            )
    return None


def _reads_logits_as_probabilities(checker) -> bool:
    import keras

    model = getattr(checker.port, "model", None)
    loss = getattr(model, "loss", None)
    if not hasattr(loss, "get_config") or loss.get_config().get("from_logits") is not False:
        return False
    last = model.layers[-1] if model.layers else None
    outputs = checker.record.outputs
    outside = outputs is not None and (outputs.min() < 0 or outputs.max() > 1)
    return getattr(last, "activation", None) is keras.activations.linear or outside


def _outputs_agree(checker, values, eager: bool = False) -> bool:
    checker.port.assign(values)
    forward = checker.port.forward if eager else checker.port.outputs_of
    new = np.asarray(forward(checker.first))
    return difference(new, checker.record.outputs, checker.bound).agrees


def _gate_blocks(value: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    blocks = np.split(value, 4, axis=-1)
    return np.concatenate([blocks[i] for i in order], axis=-1)


def _softmax(value: np.ndarray) -> np.ndarray:
    shifted = np.exp(value - value.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _sigmoid(value: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-value))


def probabilities_hint(checker) -> str | None:
    """Logits on one side where the other gives their softmax or sigmoid."""
    old = np.asarray(checker.record.outputs, np.float64)
    new = np.asarray(checker.port.outputs_of(checker.first), np.float64)
    if new.size != old.size:
        return None
    new = new.reshape(old.shape)
    for name, function in (("softmax", _softmax), ("sigmoid", _sigmoid)):
        with np.errstate(over="ignore"):
            if difference(function(new), old, checker.bound).agrees:
                return (
                    f"the port's outputs are logits where TF1's are probabilities: their {name} "
                    f"is TF1's outputs (end the model in the {name}, and give the loss "
                    "from_logits=False)"
                )
            if difference(new, function(old), checker.bound).agrees:
                return (
                    f"the port's outputs are probabilities where TF1's are logits: TF1's {name} "
                    "is the port's outputs (end the model in the logits)"
                )
    return None


GENERIC_FORWARD = (
    "the weights agree but the outputs do not: compare the layers, their order and activations"
)


def forward_hint(checker) -> str | None:
    unloaded = frozen_unloaded(checker)
    if unloaded:
        return unloaded
    probabilities = probabilities_hint(checker)
    if probabilities is not None:
        return probabilities
    start = checker.port.values()
    names = [checker.name(link) for link in checker.links]
    try:
        for i, value in enumerate(start):
            if value.ndim == 2 and value.shape[0] == value.shape[1]:
                if _outputs_agree(checker, [v.T if j == i else v for j, v in enumerate(start)]):
                    return f"{names[i]} is transposed: the outputs agree with its transpose"
        gated = [
            i
            for i, v in enumerate(start)
            if v.ndim >= 1 and v.shape[-1] % 4 == 0 and v.shape[-1] >= 4
        ]
        found = _gates_and_forget_bias(checker, start, gated) if gated else None
        if found is not None:
            order, shifts = found
            moved = "".join(TF1_GATES[i] for i in order)
            vectors = ", ".join(names[i] for i in gated if start[i].ndim == 1)
            shifted = " and ".join(f"{shift:+g} on block {block}" for block, shift in shifts)
            if order == (0, 1, 2, 3):
                return (
                    f"{shifted} of {vectors} makes the outputs agree: TF1's BasicLSTMCell adds "
                    "forget_bias=1.0 to the forget gate in its step, Keras keeps it in the bias: "
                    "add 1.0 to Keras's f block (block 1)"
                )
            text = (
                f"the gates of {', '.join(names[i] for i in gated)} in the wrong order: the "
                f"outputs agree with the blocks taken in the order {moved} of TF1's {TF1_GATES} "
                "(Keras's LSTM wants i, f, c, o)"
            )
            if shifts:
                text += (
                    f", then {shifted} of {vectors}: BasicLSTMCell's forget_bias=1.0 belongs on "
                    "Keras's f block (block 1) after the reordering"
                )
            return text
        for layer in _dropout_layers(checker.port):
            kept = layer.rate
            layer.rate = 1 - kept
            try:
                if _outputs_agree(checker, start, eager=True):  # the traced rate is fixed
                    return (
                        f"{layer.name} has rate={kept:g}, the fraction it drops; TF1's keep_prob "
                        f"is the fraction kept: the outputs agree with rate={1 - kept:g}"
                    )
            finally:
                layer.rate = kept
    finally:
        checker.port.assign(start)
    return GENERIC_FORWARD


def _bias_shifts() -> list[tuple[tuple[int, float], ...]]:
    """No change, +1 or -1 on one gate block, or 1 moved from one block to another."""
    ones = [((block, shift),) for block in range(4) for shift in (1.0, -1.0)]
    moves = [((a, -1.0), (b, 1.0)) for a in range(4) for b in range(4) if a != b]
    return [()] + ones + moves


def _gates_and_forget_bias(checker, start, gated):
    """The gate order and forget-bias shifts (of the reordered bias) that make the outputs
    agree, tried together; None if none does."""
    biases = [i for i in gated if start[i].ndim == 1]
    shifts_tried = _bias_shifts() if biases else [()]
    for order in itertools.permutations(range(4)):
        for shifts in shifts_tried:
            if order == (0, 1, 2, 3) and not shifts:
                continue
            tried = [_gate_blocks(v, order) if i in gated else v for i, v in enumerate(start)]
            for i in biases:
                quarter = len(tried[i]) // 4
                for block, shift in shifts:
                    tried[i][block * quarter : (block + 1) * quarter] += shift
            if _outputs_agree(checker, tried):
                return order, shifts
    return None


def _dropout_layers(port) -> list:
    model = getattr(port, "model", None)
    if model is None:
        return []
    import keras

    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Dropout)]


def optimizer_hint(checker, failed) -> str | None:
    optimizer = getattr(getattr(checker.port, "model", None), "optimizer", None)
    if optimizer is None:
        return None
    kind = type(optimizer).__name__
    config = optimizer.get_config()
    if kind == "SGD" and config.get("momentum") and failed.step and failed.step > 1:
        changes = _rate_changes(optimizer, failed.step)
        if changes is not None:
            return (
                f"Keras's SGD(momentum=...) keeps the velocity already multiplied by the rate, "
                f"TF1's MomentumOptimizer the sum of gradients, rated anew at each step: they part "
                f"where the rate changes, and the schedule changes it at step {failed.step} "
                f"({changes}), where this stage fails (keras_impl.optimizers.TF1Momentum is "
                "TF1's rule)"
            )
    if kind == "RMSprop":
        return (
            "Keras's RMSprop is not TF1's RMSPropOptimizer: TF1 starts the mean square at 1.0, "
            "Keras at 0, and TF1's epsilon defaults to 1e-10, Keras's to 1e-7 (both add it inside "
            "the square root; keras_impl.optimizers.TF1RMSProp is TF1's rule)"
        )
    if kind == "Adam" and config.get("epsilon") == 1e-7:
        return "Keras's Adam defaults to epsilon=1e-7, TF1's AdamOptimizer to 1e-8"
    if kind == "Adam":
        return (
            "Keras's Adam has TF1's formula but computes 1 - beta2 as a Python float and casts it "
            "(float32(0.001), where TF1 subtracts in float32: 0.0009999871, 1.29e-5 apart "
            "relatively), and beta^t as a power where TF1 multiplies a running product: here "
            "further apart than the check allows "
            "(keras_impl.optimizers.TF1Adam is TF1's rule)"
        )
    return None


def _rate_changes(optimizer, step: int) -> str | None:
    """How the schedule's rate moves from the step before ``step`` to it (Keras counts its
    iterations from 0), or None for a constant rate."""
    import keras

    schedule = getattr(optimizer, "_learning_rate", None)
    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return None
    before, now = (float(np.asarray(schedule(i))) for i in (step - 2, step - 1))
    return None if before == now else f"{before:g} to {now:g}"


def first_of_its_turn(checker) -> bool:
    """Whether the last step compared is the first step of its train op: the first step, or a
    GAN's second train op's first step, where its optimizer starts as fresh."""
    step = checker.steps_compared - 1
    kinds = checker.record.meta.get("kinds") or [0] * (step + 1)
    return kinds[step] not in kinds[:step]


SAME_RATIO = 0.99  # of the moved elements: a few near-zero gradients round Adam's update apart


def update_ratio(checker) -> float | None:
    """Port update / TF1 update at the last step compared, when it is one number for the
    elements it moves (``SAME_RATIO`` of them: a GAN's generator measured 0.2 at 6,639,491
    elements' 1st-99th percentiles and 28.6 at the largest)."""
    step, record = checker.steps_compared - 1, checker.record
    before = record.initial if step == 0 else record.after[step - 1]
    new = np.concatenate(
        [(a - b).ravel() for a, b in zip(checker.port.values(), checker.before_step)]
    )
    old = np.concatenate(
        [
            (link.carry(record.after[step][link.tf1]) - link.carry(before[link.tf1])).ravel()
            for link in checker.links
        ]
    )
    moved = np.abs(old) > 0
    if not moved.any():
        return None
    ratios = new[moved] / old[moved]
    middle = float(np.median(ratios))
    alike = np.isclose(ratios, middle, rtol=1e-3, atol=0)
    return middle if alike.mean() >= SAME_RATIO else None


def moved_apart(checker) -> str | None:
    """At the last step compared: the variables that one side's step changed and the other's
    left as they were (an optimizer's var_list on one side and not the other), named."""
    record, step = checker.record, checker.steps_compared - 1
    before = record.initial if step == 0 else record.after[step - 1]
    after = record.after[step]
    port_after = checker.port.values()
    port_only, tf1_only = [], []
    for link in checker.links:
        tf1_moved = not np.array_equal(before[link.tf1], after[link.tf1])
        port_moved = not np.array_equal(checker.before_step[link.port], port_after[link.port])
        if port_moved and not tf1_moved:
            port_only.append(checker.name(link))
        elif tf1_moved and not port_moved:
            tf1_only.append(checker.name(link))
    turns = record.meta.get("turns")
    kinds = record.meta.get("kinds")
    which = f" of {turns[kinds[step]]['train_op']!r}" if turns and kinds else ""
    if port_only:
        return (
            f"the port's step {step + 1} changes {', '.join(port_only)}, which TF1's train "
            f"op{which} leaves as they are: TF1's optimizer updates only its var_list; give the "
            "port's step the same variables (apply_gradients over them alone)"
        )
    if tf1_only:
        return (
            f"TF1's train op{which} at step {step + 1} changes {', '.join(tf1_only)}, which the "
            "port's step leaves as they are: the port trains fewer variables than TF1's "
            "optimizer (its var_list, or a layer frozen with trainable=False)"
        )
    return None


def tf1_name(shown: str) -> str:
    """The TF1 name in a report's ``port/path (TF1 name)``, or the name both sides share."""
    return shown.split(" (TF1 ")[1].rstrip(")") if " (TF1 " in shown else shown


def step_hint(checker, failed) -> str | None:
    apart = moved_apart(checker)
    if apart:
        return apart
    state = checker.only_state_apart()
    reasons = checker.record.meta.get("untrained", {})
    others = [name for name in state if "var_list" in reasons.get(tf1_name(name), "")]
    if state and others == state:
        return (
            f"the loss and every weight agree but the port's {', '.join(state)} do not: TF1 "
            "trains them with another train op, whose var_list they are in and this one's they "
            "are not; the port's step must leave them to that op's update, as TF1's does"
        )
    if state:
        return (
            f"the loss and every weight agree but the port's {', '.join(state)} do not: state "
            "that training moves but no gradient reaches (BatchNorm's moving statistics: "
            "Keras's momentum and TF1's decay weigh the old average, PyTorch's momentum the new "
            "batch; a counter: what it counts)"
        )
    known = optimizer_hint(checker, failed)
    if known:
        return known
    ratio = update_ratio(checker) if first_of_its_turn(checker) else None
    if ratio is not None and checker.record.dtype == "float64" and abs(ratio - 1) < 1e-6:
        return (
            f"every update is {ratio:.10g}x TF1's: in a float64 graph TF1 casts a Python-float "
            "hyperparameter to float32 (an optimizer given 0.01 trains at float32(0.01)); give "
            "it as tf.constant(0.01, tf.float64) in TF1, or the float32 value to the port"
        )
    if ratio is not None and abs(ratio - 1) > 1e-3:
        return (
            f"every update is {ratio:.6g}x TF1's: the learning rate, or the loss's scale (under "
            "tf.distribute, each replica's loss must be its share of the global batch's: a mean "
            "over its own rows, summed over N replicas, is N times too large)"
        )
    if failed.stage == "one step":
        return (
            "the gradients agree but the update does not: the learning rate (its value, its dtype, "
            "its decay) or the optimizer's arguments and starting slots"
        )
    return (
        "the first step agrees: look at what changes from step to step (the decay schedule, the "
        "optimizer's slots); rounding also grows over the steps of a chaotic run"
    )


def tied_hint(checker) -> str | None:
    """One TF1 variable that fills several port variables, whose gradient is the sum of
    theirs: TF1 uses the one variable twice, the port trains copies. Tested on a random
    direction r: <r, TF1's gradient> = sum over the copies of <T(r), the copy's gradient>, T
    each copy's transform's linear part."""
    grads = [np.asarray(g, np.float64) for g in checker.port.grads_of(checker.first)]
    rng = np.random.default_rng(0)
    for tf1 in sorted({link.tf1 for link in checker.links}):
        copies = [i for i, link in enumerate(checker.links) if link.tf1 == tf1]
        if len(copies) < 2:
            continue
        old = np.asarray(checker.record.grads[tf1], np.float64)
        direction = rng.standard_normal(old.shape)
        whole = float(np.vdot(direction, old))
        parts = sum(
            float(np.vdot(checker.links[i].carry_gradient(direction), grads[i])) for i in copies
        )
        if abs(parts - whole) <= 1e-4 * max(abs(whole), 1e-30):
            names = [checker.port.names[checker.links[i].port] for i in copies]
            return (
                f"TF1's {checker.record.names[tf1]} is one variable used {len(copies)} times, "
                f"and its gradient is the sum of the port's {', '.join(names)}: the port trains "
                "copies where TF1 ties them (use the one variable in each place, e.g. a "
                "DenseTranspose layer that reads the encoder's kernel)"
            )
    return None


def explain(failed, checker) -> str | None:
    if failed.stage == "forward":
        return forward_hint(checker)
    if failed.stage == "loss":
        return loss_hint(checker)
    if failed.stage == "gradients":
        tied = tied_hint(checker)
        if tied is not None:
            return tied
        return (
            "the loss agrees but its gradients do not: a stop_gradient, a custom gradient, or a "
            "variable the port's loss does not reach the way TF1's does"
        )
    if failed.stage in ("one step", "many steps"):
        return step_hint(checker, failed)
    return None
