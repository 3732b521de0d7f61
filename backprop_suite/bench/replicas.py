"""tf and keras data-parallel on 1, 2 and 4 replicas of one CPU: the cost of splitting."""

from __future__ import annotations

from dataclasses import replace

from backprop_suite.bench.timing import Progress, first_and_median, silent
from backprop_suite.core import TrainConfig, init_params, noisy_xor

REPLICAS = (1, 2, 4)
REPLICA_ROWS = 100_000
REPLICA_STEPS = 100


def replica_rows(
    repeats: int, rows: int = REPLICA_ROWS, steps: int = REPLICA_STEPS, progress: Progress = silent
) -> list[dict]:
    """tf and keras data-parallel on 1, 2 and 4 replicas (logical CPUs of this one CPU), on
    noisy_xor; each time as a ratio to its own one-replica (one-device) run. On one CPU the
    replicas share the same cores: this measures the cost of splitting the batch, summing the
    gradients and updating every copy, not a speed-up."""
    import tensorflow as tf

    import keras_impl
    import tf_impl

    x, y = noisy_xor(rows, 0.1, seed=0)
    cfg = TrainConfig(steps=steps)
    params = init_params(cfg)
    timings = []
    # each replica count is a new Keras model whose first call traces its train function (timed
    # as the first call); TensorFlow warns about "retracing" once this process has traced Keras
    # train functions more than five times, which here is expected and not a fault
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        for name, impl in (("tf", tf_impl), ("keras", keras_impl)):
            timings += replica_timings(name, impl, params, x, y, cfg, repeats, progress)
    finally:
        logger.setLevel(level)
    return timings


def replica_timings(name, impl, params, x, y, cfg, repeats, progress) -> list[dict]:
    """One implementation on each replica count, as a ratio to its one-replica run."""
    own = []
    for replicas in REPLICAS:
        spread = replace(cfg, replicas=replicas)
        job = lambda c=spread: impl.train(params, x, y, c)  # noqa: E731
        first, median = first_and_median(job, repeats)
        own.append(
            {"impl": name, "replicas": replicas, "rows": len(x), "steps": cfg.steps}
            | {"first_s": first, "median_s": median}
        )
        progress(f"  {name} on {replicas} replicas: {median * 1e3:.0f} ms")
    for row in own:
        row["ratio_to_one"] = row["median_s"] / own[0]["median_s"]
    return own


def print_replicas(timings: list[dict]) -> None:
    rows, steps = timings[0]["rows"], timings[0]["steps"]
    print(
        f"\n{steps} steps of the 2-3-1 net on noisy_xor ({rows:,} rows, full batch), data-parallel "
        "on logical CPUs of one CPU (overhead, not speed-up), median ms and x one replica"
    )
    print(f"{'replicas':>8}" + "".join(f"{name:>20}" for name in ("tf", "keras")))
    for replicas in REPLICAS:
        cells = ""
        for name in ("tf", "keras"):
            row = next(r for r in timings if (r["impl"], r["replicas"]) == (name, replicas))
            cells += f"{row['median_s'] * 1e3:>12.0f} ({row['ratio_to_one']:.2f}x)"
        print(f"{replicas:>8}{cells}")
