"""Each implementation's default ``train`` as the hidden width and the number of samples grow."""

from __future__ import annotations

from backprop_suite.bench.timing import Progress, first_and_median, silent
from backprop_suite.core import TrainConfig, init_params, noisy_xor, xor_data
from backprop_suite.verify.registry import IMPLEMENTATIONS, load_implementation

WIDTHS = (3, 16, 64, 256, 1024)
SAMPLES = (4, 100, 1_000, 10_000, 100_000)


def scaling(
    steps: int,
    repeats: int,
    widths=WIDTHS,
    samples=SAMPLES,
    names=tuple(IMPLEMENTATIONS),
    progress: Progress = silent,
) -> list[dict]:
    """Each implementation's default ``train``, as the hidden width and the sample count grow."""
    impls = {name: load_implementation(name) for name in names}
    rows = []
    cases = [("width", w, (2, w, 1), xor_data()) for w in widths]
    cases += [("samples", n, (2, 3, 1), noisy_xor(n, 0.1, seed=0)) for n in samples]
    for axis, size, layers, (x, y) in cases:
        cfg = TrainConfig(layers=layers, steps=steps)
        params = init_params(cfg)
        for name, impl in impls.items():
            job = lambda impl=impl, p=params, x=x, y=y, c=cfg: impl.train(p, x, y, c)  # noqa: E731
            _, median = first_and_median(job, repeats)
            rows.append({"axis": axis, "size": size, "impl": name, "median_s": median})
            progress(f"  {axis} {size} {name}: {median * 1e3:.1f} ms")
    return rows


def print_scaling(rows: list[dict], steps: int) -> None:
    names = list(dict.fromkeys(row["impl"] for row in rows))
    for axis, label in (("width", "hidden width (2-W-1, XOR)"), ("samples", "samples (2-3-1)")):
        print(f"\n{steps} steps, ms per job, by {label}; fastest marked *")
        print(f"{'size':>8}" + "".join(f"{name:>11}" for name in names))
        for size in dict.fromkeys(row["size"] for row in rows if row["axis"] == axis):
            times = {
                r["impl"]: r["median_s"] for r in rows if (r["axis"], r["size"]) == (axis, size)
            }
            best = min(times, key=times.get)
            cells = "".join(f"{times[n] * 1e3:>10.1f}{'*' if n == best else ' '}" for n in names)
            print(f"{size:>8}{cells}")
