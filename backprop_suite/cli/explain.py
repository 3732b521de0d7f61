"""Walk one training step of the seed's network the way the article does, with the real numbers.

    backprop-explain                    # the seed's 2-3-1 net on XOR, weight m2[0,0]
    backprop-explain --weight m1[1,2]   # any weight or bias: m1[i,j], b2[j], …
    backprop-explain --article          # the article's 2-2-2 example, completed, and its w6
    backprop-explain --optimizer adam   # the update by one of TF1's optimizers

It prints the forward pass (each neuron's net input, then its output), the error, the three
chain-rule factors of one weight's gradient and their product, and the update; then it checks
every one of those numbers against TensorFlow (GradientTape and the TF2 port's own update).
With ``--optimizer`` (and ``--optimizer-args``, as backprop-compare takes them) the update is that
optimizer's: its formula, each slot before and after, the weight; the slots and the weight are
checked against the training kernel TF1's optimizer calls.
With ``--article`` each number is labelled: ``[article]`` where the article prints it,
``[completed]`` where the suite computes it from the article's setup and, for the weights and
biases the article does not give, from the seed; the article's own outputs and error (0.735,
0.455, E = 0.0286) are shown beside the completed ones, with its arithmetic redone.
Exit status: 0 when every check holds, 1 when one does not, 2 for bad input.
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

import manual_impl
from backprop_suite.cli.script import ArgumentParser, parse_optimizer_args, run_script
from backprop_suite.core import TrainConfig, check_inputs, init_params, xor_data
from backprop_suite.core.optimizers import OPTIMIZERS
from backprop_suite.verify.tolerances import CHAIN_RULE
from manual_impl.optimizers import RULES, Optimizer

WEIGHT = re.compile(r"^([mb])(\d+)\[(\d+)(?:,(\d+))?\]$")


def parse_weight(text: str, cfg: TrainConfig) -> tuple[str, tuple[int, ...]]:
    """``"m2[0,1]"`` -> ("m2", (0, 1)), checked against the layers."""
    match = WEIGHT.match(text.replace(" ", ""))
    if not match:
        raise ValueError(f"--weight takes m<layer>[i,j] or b<layer>[j], got {text!r}")
    kind, layer, first, second = match.groups()
    key = f"{kind}{layer}"
    shapes = cfg.param_shapes()
    if key not in shapes:
        raise ValueError(f"--weight {text}: layers {cfg.layers} have no {key}")
    index = (int(first),) if second is None else (int(first), int(second))
    if len(index) != len(shapes[key]) or any(i >= n for i, n in zip(index, shapes[key])):
        raise ValueError(f"--weight {text}: {key} has shape {shapes[key]}")
    return key, index


# The article's worked example, its numbers as it prints them: a 2-2-2 sigmoid net, inputs i1 and
# i2, into h1 the weights w1 (from i1) and w3 (from i2) and the bias b1, h1's net input and
# output; the outputs o1 and o2 it assumes ("let's say"), the targets, each output's error
# ½ (target - output)² and their sum E. It gives no other weight or bias.
ARTICLE = {
    "inputs": (0.1, 0.2),
    "w1": 0.27,
    "w3": 0.57,
    "b1": 0.4,
    "h1 net": 0.541,
    "h1 output": 0.632,
    "outputs": (0.735, 0.455),
    "targets": (0.5, 0.5),
    "errors": (0.0276, 0.001),
    "E": 0.0286,
}
ARTICLE_MARK = "[article]"
COMPLETED_MARK = "[completed]"


def article_problem(cfg: TrainConfig) -> tuple[dict, np.ndarray, np.ndarray]:
    """The article's example: inputs 0.1 and 0.2, targets 0.5 and 0.5, and the weights it names
    (w1 = 0.27, w3 = 0.57 into h1, bias 0.4); the rest, which it does not give, drawn from the
    seed."""
    params = init_params(cfg)
    params["m1"][:, 0] = [ARTICLE["w1"], ARTICLE["w3"]]
    params["b1"][0] = ARTICLE["b1"]
    return params, np.array([ARTICLE["inputs"]]), np.array([ARTICLE["targets"]])


def print_article_sources(seed: int) -> None:
    """Which numbers below the article prints, and which the suite completes."""
    a = ARTICLE
    print("The article's worked example: a 2-2-2 sigmoid net, E the sum of ½ (target - output)².")
    print(f"  {ARTICLE_MARK} printed in the article:")
    print(
        f"    inputs i1 = {a['inputs'][0]:g}, i2 = {a['inputs'][1]:g} (x0); targets "
        f"{a['targets'][0]:g} and {a['targets'][1]:g}"
    )
    print(
        f"    into h1 (h1[0] here): w1 = {a['w1']:g} (m1[0,0]), w3 = {a['w3']:g} (m1[1,0]), "
        f"bias b1 = {a['b1']:g} (b1[0]); its net {a['h1 net']:g}, its output "
        f"{a['h1 output']:g}"
    )
    print("    w6 (m2[0,1]), from h1 into o2 (y_out[1]): the weight it walks back to")
    print(
        f"    outputs o1 = {a['outputs'][0]:g} and o2 = {a['outputs'][1]:g}, errors "
        f"{a['errors'][0]:g} and {a['errors'][1]:g}, E = {a['E']:g}: outputs it assumes (\"let's "
        'say"), from weights it does not give'
    )
    print(
        f"  {COMPLETED_MARK} computed by the suite: the weights and biases the article does not "
        f"give (h2's w2, w4 and bias, w5 to w8, the output biases) drawn from --seed {seed}, and"
    )
    print("    every number that depends on them: h2, the outputs, E, the gradient and the update;")
    print("    the article's 0.735, 0.455 and 0.0286 are not these, and are shown beside them.\n")


def article_notes() -> dict[tuple[int, int], str]:
    """The label of each neuron's line of the forward pass, by (layer, unit)."""
    outputs = ARTICLE["outputs"]
    return {
        (1, 0): f"{ARTICLE_MARK} (the article: {ARTICLE['h1 net']:g}, {ARTICLE['h1 output']:g})",
        (1, 1): COMPLETED_MARK,
        (2, 0): f"{COMPLETED_MARK} (the article's o1: {outputs[0]:g})",
        (2, 1): f"{COMPLETED_MARK} (the article's o2: {outputs[1]:g})",
    }


def print_article_error() -> None:
    """The article's own error, redone from the outputs it prints."""
    terms = [0.5 * (t - o) ** 2 for t, o in zip(ARTICLE["targets"], ARTICLE["outputs"])]
    redone = " + ".join(
        f"½ ({t:g} - {o:g})²" for t, o in zip(ARTICLE["targets"], ARTICLE["outputs"])
    )
    printed = " + ".join(f"{e:g}" for e in ARTICLE["errors"])
    print(
        f"  {ARTICLE_MARK} the article's E, from its outputs: {redone} = "
        f"{' + '.join(f'{v:.7g}' for v in terms)} = {sum(terms):.6g} "
        f"(it prints {printed} = {ARTICLE['E']:g})"
    )


def neuron(layer: int, unit: int, depth: int) -> str:
    return f"y_out[{unit}]" if layer == depth else f"h{layer}[{unit}]"


def print_forward(
    h: list, params: dict, cfg: TrainConfig, notes: dict[tuple[int, int], str] | None = None
) -> None:
    """Each neuron's net input and output; ``notes`` ends the line of (layer, unit)."""
    notes = notes or {}
    print(f"1. Forward pass: net = inputs · weights + bias, then output = {cfg.activation}(net)")
    for sample in range(len(h[0])):
        print(f"  sample {sample}: x0 = {np.array2string(h[0][sample], precision=4)}")
        for layer in range(1, cfg.depth + 1):
            inputs, m, b = h[layer - 1][sample], params[f"m{layer}"], params[f"b{layer}"]
            for unit in range(m.shape[1]):
                terms = " + ".join(f"({v:.4g} × {w:.4f})" for v, w in zip(inputs, m[:, unit]))
                net = inputs @ m[:, unit] + b[unit]
                note = notes.get((layer, unit))
                print(
                    f"    net {neuron(layer, unit, cfg.depth)} = {terms} + {b[unit]:.4f} = "
                    f"{net:.6f};  {cfg.activation}({net:.6f}) = {h[layer][sample, unit]:.6f}"
                    + (f"  {note}" if note else "")
                )


def print_error(
    y0: np.ndarray, y_out: np.ndarray, loss: float, cfg: TrainConfig, mark: str = ""
) -> None:
    """Each output's term of E and E; ``mark`` ends each of those lines."""
    mark = f"  {mark}" if mark else ""
    half = cfg.loss == "half_sum_squares"
    summary = {
        "sum_squares": "the sum of (target - output)²",
        "half_sum_squares": "the sum of ½ (target - output)², the article's convention",
        "mean_squares": "the mean of (target - output)² over samples and outputs",
    }[cfg.loss]
    print(f"\n2. Error E: {summary}")
    for (sample, unit), target in np.ndenumerate(y0):
        out = y_out[sample, unit]
        term = (0.5 if half else 1.0) * (target - out) ** 2
        print(
            f"  sample {sample}, output {unit}: {'½ ' if half else ''}({target:.4g} - {out:.6f})²"
            f" = {term:.6f}{mark}"
        )
    print(f"  E = {loss:.10f}{mark}")


def weight_name(key: str, index: tuple[int, ...]) -> str:
    return f"{key}[{','.join(map(str, index))}]"


def chain_rule(params, h, y0, cfg, key, index) -> tuple[np.ndarray, float]:
    """Per sample: dE/d(output of the weight's neuron), d(output)/d(net), d(net)/d(weight)."""
    layer, unit = int(key[1:]), index[-1]
    steps = {
        at: (dloss_dh, dh_dnet)
        for at, dloss_dh, dh_dnet, _ in manual_impl.backward_steps(params, h, y0, cfg)
    }
    dloss_dh, dh_dnet = steps[layer]
    dnet_dw = h[layer - 1][:, index[0]] if key[0] == "m" else np.ones(len(y0))
    factors = np.column_stack([dloss_dh[:, unit], dh_dnet[:, unit], dnet_dw])
    return factors, float(np.prod(factors, axis=1).sum())


def print_chain_rule(factors: np.ndarray, grad: float, key, index, cfg: TrainConfig) -> None:
    layer, unit = int(key[1:]), index[-1]
    target = neuron(layer, unit, cfg.depth)
    source = f"h{layer - 1}[{index[0]}]" if layer > 1 else f"x0[{index[0]}]"
    name = weight_name(key, index)
    what = f"from {source} into {target}" if key[0] == "m" else f"the bias of {target}"
    print(
        f"\n3. Backpropagation for {name} ({what}): dE/dw = dE/d{target} × "
        f"d{target}/dnet × dnet/dw, summed over samples"
    )
    if layer < cfg.depth:
        print(
            f"  (dE/d{target} itself is the error arriving from the layer above: "
            f"Σ over its neurons of dE/dnet × the weight from {target})"
        )
    for sample, (d_out, d_act, d_in) in enumerate(factors):
        print(
            f"  sample {sample}: {d_out:+.6f} × {d_act:.6f} × {d_in:.6f} = "
            f"{d_out * d_act * d_in:+.8f}"
        )
    print(f"  dE/d{name} = {grad:+.10f}")


def check_slots(params, tf_grads, cfg, key, index, slots_after) -> list[bool]:
    """The slots after one update by TF1's own training kernel (the TF2 port's TF1Optimizer),
    from TF's gradients, against the NumPy rule's."""
    import tensorflow as tf

    from tf_impl.optimizers import TF1Optimizer

    variables = [tf.Variable(params[k]) for k in cfg.param_shapes()]
    optimizer = TF1Optimizer(variables, cfg)
    grads = [tf.constant(tf_grads[k]) for k in cfg.param_shapes()]
    optimizer.apply(variables, grads, tf.constant(cfg.learning_rate, tf.float64))
    slots = optimizer.slots[list(cfg.param_shapes()).index(key)]
    return [
        check(f"slot {name!r} after the update (TF1's kernel)", value, slots[name].numpy()[index])
        for name, value in slots_after.items()
    ]


def check(label: str, ours: np.ndarray | float, theirs: np.ndarray | float) -> bool:
    difference = float(np.max(np.abs(np.asarray(ours) - np.asarray(theirs))))
    ok = difference <= CHAIN_RULE.atol
    print(f"  {label:<50} largest difference {difference:.1e}  {'OK' if ok else 'MISMATCH'}")
    return ok


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description=__doc__)
    parser.add_argument(
        "--article",
        action="store_true",
        help="the article's 2-2-2 example, what it leaves out drawn from the seed",
    )
    parser.add_argument("--weight", help="m2[0,0] (seed net) or m2[0,1] (--article: its w6)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights (0)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (1.0)")
    parser.add_argument("--optimizer", default="sgd", help=" | ".join(OPTIMIZERS) + " (sgd)")
    parser.add_argument(
        "--optimizer-args", default="", metavar="K=V,…", help="its TF1 arguments (TF1's defaults)"
    )
    return parser.parse_args(argv)


def optimizer_update(params: dict, grads: dict, cfg: TrainConfig, key, index) -> tuple:
    """One update by ``cfg``'s optimizer in NumPy: (rate, slots before, slots after, weights
    after, the optimizer's state before), each slot and state value at ``key[index]``."""
    optimizer = Optimizer(params, cfg)
    before = {name: float(slot[index]) for name, slot in optimizer.slots[key].items()}
    state = {name: float(value) for name, value in optimizer.state.items()}
    rate = float(optimizer.rate())
    updated = {k: v.copy() for k, v in params.items()}
    optimizer.apply(updated, grads)
    after = {name: float(slot[index]) for name, slot in optimizer.slots[key].items()}
    return rate, before, after, updated, state


def print_optimizer_update(params, grads, cfg, key, index) -> tuple[float, dict]:
    rate, before, after, updated, state = optimizer_update(params, grads, cfg, key, index)
    args = ", ".join(f"{k}={v}" for k, v in cfg.optimizer_args.items())
    name = weight_name(key, index)
    print(f"\n4. Update by TF1's {cfg.optimizer}({args}) at rate {rate:g}:")
    print("   " + " ".join(RULES[cfg.optimizer].__doc__.replace("``", "").split()))
    for power, value in state.items():
        print(f"   {power} = {value:.10f}")
    for slot in before:
        print(f"   slot {slot!r} of {name}: {before[slot]:+.10f} -> {after[slot]:+.10f}")
    weight, grad, moved = (float(a[key][index]) for a in (params, grads, updated))
    print(f"   {name} = {weight:.10f} with gradient {grad:+.10f} -> {moved:.10f}")
    return moved, after


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        step = {
            "learning_rate": args.lr,
            "steps": 1,
            "seed": args.seed,
            "dtype": "float64",
            "optimizer": args.optimizer,
            "optimizer_args": parse_optimizer_args(args.optimizer_args),
        }
        if args.article:
            cfg = TrainConfig(layers=(2, 2, 2), loss="half_sum_squares", **step)
            params, x, y = article_problem(cfg)
        else:
            cfg = TrainConfig(**step)
            params, (x, y) = init_params(cfg), xor_data("float64")
        key, index = parse_weight(args.weight or ("m2[0,1]" if args.article else "m2[0,0]"), cfg)
        params, x0, y0 = check_inputs(params, x, y, cfg)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    h = manual_impl.layer_outputs(params, x0, cfg)
    loss, grads = manual_impl.loss_and_grads(params, x0, y0, cfg)
    if args.article:
        print_article_sources(args.seed)
    print_forward(h, params, cfg, article_notes() if args.article else None)
    print_error(y0, h[-1], loss, cfg, COMPLETED_MARK if args.article else "")
    if args.article:
        print_article_error()
    factors, grad = chain_rule(params, h, y0, cfg, key, index)
    print_chain_rule(factors, grad, key, index, cfg)
    weight = float(params[key][index])
    if cfg.optimizer == "sgd":
        updated = weight - cfg.learning_rate * grad
        print(
            f"\n4. Update: {weight_name(key, index)} = {weight:.10f} - {cfg.learning_rate:g} × "
            f"{grad:+.10f} = {updated:.10f}"
        )
    else:
        updated, slots_after = print_optimizer_update(params, grads, cfg, key, index)

    import tensorflow as tf

    import tf_impl
    from tf_impl.network import layer_outputs

    print("\nChecks against TensorFlow (float64):")
    weights = [tf.constant(params[k]) for k in cfg.param_shapes()]
    tf_h = [t.numpy() for t in layer_outputs(weights, tf.constant(x0), cfg)]
    tf_loss, tf_grads = tf_impl.loss_and_grads(params, x0, y0, cfg)
    stepped = tf_impl.train(params, x0, y0, cfg).params[key][index]
    results = [
        check(
            "every neuron's output (tf layer outputs)",
            np.concatenate([a.ravel() for a in h[1:]]),
            np.concatenate([a.ravel() for a in tf_h[1:]]),
        ),
        check("the error E (GradientTape loss)", loss, tf_loss),
        check(f"dE/d{key} product of factors (GradientTape)", grad, tf_grads[key][index]),
        check(
            "every gradient, by hand vs GradientTape",
            np.concatenate([grads[k].ravel() for k in grads]),
            np.concatenate([tf_grads[k].ravel() for k in grads]),
        ),
        check("the updated weight (tf_impl.train, 1 step)", updated, stepped),
    ]
    if cfg.optimizer != "sgd":
        results += check_slots(params, tf_grads, cfg, key, index, slots_after)
    print("all checks hold" if all(results) else "A CHECK FAILED")
    return 0 if all(results) else 1


def run() -> None:
    """The ``backprop-explain`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
