"""``train_many`` on 10,000 seed nets at once against one net at a time, and the sweep's targets."""

from __future__ import annotations

from backprop_suite.bench.timing import Progress, first_and_median, silent
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.verify.registry import load_implementation

SWEEP_NETS = 10_000
SWEEP_TARGETS = {"fastest": 200.0, "manual": 400.0}  # ns per net-step


def sweep_rows(
    repeats: int, nets: int = SWEEP_NETS, steps: int = 500, progress: Progress = silent
) -> list[dict]:
    """Each ``train_many`` training ``nets`` seed nets at once (seeds 0 … nets-1), in ns per
    net-step, against the same implementation's ``train`` one net at a time; Keras and TF1,
    which have no ``train_many``, one net at a time only."""
    import manual_impl
    import tf_impl
    from backprop_suite.core.many import init_stack
    from manual_impl.many import train_many as numpy_many
    from tf_impl.many import train_many as tf_many

    cfg = TrainConfig(steps=steps)
    x, y = xor_data()
    stack = init_stack(cfg, range(nets))
    params = init_params(cfg)
    timings = []
    for name, many, one in (
        ("manual", numpy_many, manual_impl.train),
        ("tf", tf_many, tf_impl.train),
    ):
        _, median = first_and_median(lambda many=many: many(stack, x, y, cfg), repeats)
        _, single = first_and_median(lambda one=one: one(params, x, y, cfg), repeats)
        row = {"impl": name, "nets": nets, "steps": steps, "median_s": median}
        row["ns_per_net_step"] = median / (nets * steps) * 1e9
        row["one_at_a_time_ns_per_net_step"] = single / steps * 1e9
        timings.append(row)
        progress(f"  {name} train_many: {row['ns_per_net_step']:.0f} ns per net-step")
    for name in ("keras", "tf1"):
        one = load_implementation(name).train
        _, single = first_and_median(lambda one=one: one(params, x, y, cfg), repeats)
        row = {"impl": name, "nets": nets, "steps": steps, "median_s": None}
        row["ns_per_net_step"] = None
        row["one_at_a_time_ns_per_net_step"] = single / steps * 1e9
        timings.append(row)
    return timings


def sweep_checks(timings: list[dict]) -> list[dict]:
    """The sweep's two targets, in ns per net-step."""
    fastest = min(row["ns_per_net_step"] for row in timings if row["ns_per_net_step"])
    manual = next(row["ns_per_net_step"] for row in timings if row["impl"] == "manual")
    return [
        {
            "target": "fastest train_many <= 200 ns per net-step",
            "measured": fastest,
            "bound": SWEEP_TARGETS["fastest"],
            "met": fastest <= SWEEP_TARGETS["fastest"],
        },
        {
            "target": "manual_impl train_many <= 400 ns per net-step",
            "measured": manual,
            "bound": SWEEP_TARGETS["manual"],
            "met": manual <= SWEEP_TARGETS["manual"],
        },
    ]


def print_sweep(timings: list[dict], quick: bool) -> None:
    nets, steps = timings[0]["nets"], timings[0]["steps"]
    print(f"\n{nets:,} seed nets x {steps} steps at once (train_many), ns per net-step")
    print(f"{'impl':<8}{'train_many':>12}{'one at a time':>15}{'x faster':>10}")
    for row in timings:
        one = row["one_at_a_time_ns_per_net_step"]
        many = row["ns_per_net_step"]
        if many is None:
            print(f"{row['impl']:<8}{'-':>12}{one:>15.0f}{'-':>10}")
            continue
        print(f"{row['impl']:<8}{many:>12.0f}{one:>15.0f}{one / many:>10.1f}")
    if quick:
        print("targets: not judged with --quick (they are set for 10,000 nets x 500 steps)")
        return
    for check in sweep_checks(timings):
        verdict = "met" if check["met"] else "NOT MET"
        print(f"  {check['target']}: {check['measured']:.0f} ({verdict})")
