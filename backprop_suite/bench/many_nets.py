"""What bounds ``train_many``: its time per step as the number of nets K grows.

A step's time is close to ``overhead + K x per_net``: ``overhead`` is what every step costs
however few nets it trains (NumPy's or TensorFlow's per-call work, dozens of small calls per
step), ``per_net`` what each net adds (arithmetic and memory traffic). Timing K = 1 gives the
overhead; the largest K gives the per-net cost; how ``per_net`` changes as the stacked arrays
outgrow the caches says whether memory traffic bounds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from backprop_suite.bench.timing import first_and_median
from backprop_suite.core import TrainConfig, xor_data
from backprop_suite.core.many import init_stack

NETS = (1, 100, 1_000, 10_000, 100_000)
# the seed net's arithmetic per net-step (forward, backward and update on 4 rows), as the
# profile estimates it: the GFLOP/s column says how far from the arithmetic's limit a step runs
FLOPS_PER_NET_STEP = 250


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    """The median of ``repeats`` warm calls; the first call traces (TF) and warms caches."""
    return first_and_median(run, repeats)[1]


def step_costs(
    engines: dict[str, Callable],
    nets: Sequence[int] = NETS,
    steps: int = 200,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda message: None,
) -> list[dict]:
    """For each engine (``train_many`` of an implementation) and each K: the median seconds per
    step and ns per net-step, and the share of a step that K = 1's time (the overhead) is."""
    cfg = TrainConfig(steps=steps)
    x, y = xor_data()
    rows = []
    for name, train_many in engines.items():
        overhead = None
        for count in nets:
            stack = init_stack(cfg, range(count))
            run = lambda many=train_many, stack=stack: many(stack, x, y, cfg)  # noqa: E731
            seconds = median_seconds(run, repeats) / steps
            overhead = seconds if overhead is None else overhead
            rows.append(
                {
                    "impl": name,
                    "nets": count,
                    "step_us": seconds * 1e6,
                    "ns_per_net_step": seconds / count * 1e9,
                    "overhead_share": min(1.0, overhead / seconds),
                    "gflops": FLOPS_PER_NET_STEP * count / seconds / 1e9,
                }
            )
            progress(f"  {name} K={count}: {rows[-1]['ns_per_net_step']:.0f} ns per net-step")
    return rows


def print_costs(rows: list[dict]) -> None:
    print("\ntrain_many's cost per step as the number of nets K grows (seed net, float32)")
    header = f"{'impl':<8}{'K':>9}{'us per step':>13}{'ns/net-step':>13}{'K=1 share':>11}"
    print(header + f"{'GFLOP/s':>9}")
    for row in rows:
        print(
            f"{row['impl']:<8}{row['nets']:>9,}{row['step_us']:>13.1f}"
            f"{row['ns_per_net_step']:>13.1f}{row['overhead_share']:>11.0%}{row['gflops']:>9.2f}"
        )


def batched_matmuls_per_step(cfg: TrainConfig) -> int:
    """How many ``BatchMatMul`` ops the compiled loop of ``tf_impl.many`` runs per step, counted
    in its graph (the loop body is the only place they occur)."""
    from tf_impl.many import ManyTrainer

    graph = ManyTrainer(cfg, 2).loop.get_concrete_function().graph
    graphs, count = [graph], 0
    while graphs:
        current = graphs.pop()
        count += sum(op.type.startswith("BatchMatMul") for op in current.get_operations())
        graphs.extend(function.graph for function in current._functions.values())
    return count


def batched_matmul_us(nets: int = 10_000, steps: int = 200, repeats: int = 3) -> float:
    """Microseconds for one ``tf.matmul`` of ``nets`` (4, 2) x (2, 3) products, the seed net's
    first layer, in a compiled loop, less the loop's own cost (the same loop adding a constant)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    h = tf.constant(rng.random((nets, 4, 2), dtype=np.float32))
    m = tf.constant(rng.random((nets, 2, 3), dtype=np.float32))
    constant = tf.constant(rng.random((nets, 4, 3), dtype=np.float32))

    def loop(product):
        @tf.function
        def run():
            total = tf.zeros((nets, 4, 3))
            for _ in tf.range(steps):
                total += product()
            return total

        return lambda: run().numpy()

    with_matmul = median_seconds(loop(lambda: tf.matmul(h, m)), repeats)
    without = median_seconds(loop(lambda: constant), repeats)
    return (with_matmul - without) / steps * 1e6


def print_matmul(per_step: int, matmul_us: float, rows: list[dict]) -> None:
    """The batched matmuls' share of TF's step for 10,000 nets (when ``rows`` timed it)."""
    text = f"tf: {per_step} batched matmuls per step, each {matmul_us:.0f} us for 10,000 nets"
    steps = [row["step_us"] for row in rows if (row["impl"], row["nets"]) == ("tf", 10_000)]
    if steps:
        text += f": {per_step * matmul_us / steps[0]:.0%} of its {steps[0]:.0f} us step"
    print(text)
