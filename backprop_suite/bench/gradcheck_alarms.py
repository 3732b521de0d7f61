"""How often a gradient check fails a correct model: ``backprop_suite.gradcheck`` against a
fixed-step check in the model's own dtype (step 1e-6, atol 1e-5, rtol 1e-3: torch.autograd
gradcheck's defaults, meant for float64), over seeds of a small MLP; with ``--gallery``,
``backprop_suite.gradcheck`` alone on the Keras 3 ports of the migration gallery
(``examples/migrations``, but the towers, which need two devices), each on its TF1 program's
first batch, its weights drawn anew for every seed; with ``--field``, the field models of
``tests/fixtures/gradcheck/field`` named, under the dtype policies given (each model's own
``POLICIES`` by default), their weights drawn anew for every seed: with ``--errors``, the raw
distance of the analytic gradients from the numeric ones instead, to set a dtype's bound by;
with ``--bugs``, how often each model's planted bug is caught too.

    python -m backprop_suite.bench.gradcheck_alarms [--seeds 100]
    python -m backprop_suite.bench.gradcheck_alarms --gallery [--fixed-step] [--order 2]
    python -m backprop_suite.bench.gradcheck_alarms --field own_mixed_mlp,own_attention_block \
        --policies float32,mixed_float16 [--errors] [--bugs]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

# The bound ``--errors`` checks at: nothing short of an error as large as the variable's scale
# fails, so that every variable is judged and recorded. The numeric steps then settle at the
# first (a tenth of this bound), which is right for smooth models; a kink is not looked for.
MEASURING = {"atol": 1.0, "rtol": 0.0}
LARGE = 0.1  # a gradient element is large from a tenth of its variable's scale
RTOLS = (0.0, 0.01, 0.03, 0.1)  # the rtols beside which --errors gives the smallest atol


def fixed_step_alarm(model, x, y, loss, step: float = 1e-6) -> bool:
    """Whether central differences in the model's own dtype, at a fixed step, disagree with its
    analytic gradients beyond atol 1e-5 + rtol 1e-3 anywhere (the loss traced once, so that a
    point costs an assignment and a graph call)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = tf.reduce_sum(loss(y, model(x)))
    grads = tape.gradient(value, model.trainable_variables)
    evaluate = tf.function(lambda: tf.reduce_sum(loss(y, model(x))))
    for variable, grad in zip(model.trainable_variables, grads):
        base = variable.numpy()
        for index in np.ndindex(base.shape):
            moved = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[index] += sign * step
                variable.assign(shifted)
                moved.append(float(evaluate()))
            variable.assign(base)
            numeric = (moved[0] - moved[1]) / (2 * step)
            if abs(float(grad.numpy()[index]) - numeric) > 1e-5 + 1e-3 * abs(numeric):
                return True
    return False


def gallery(seeds: int, fixed_step: bool, order: int) -> None:
    """The gallery's ports: false alarms per program and dtype (of the Hessian-vector product
    too with ``order`` 2); with ``fixed_step``, the fixed-step check's on the same models."""
    import time
    from pathlib import Path

    import keras

    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
    from backprop_suite.migration.programs import load_module

    folder = Path(__file__).resolve().parents[2] / "examples" / "migrations"
    for program in sorted(p for p in folder.iterdir() if (p / "keras3.py").is_file()):
        if program.name == "towers":
            continue
        batch = next(iter(load_module(program / "tf1.py").batches()))
        port = load_module(program / "keras3.py")
        for dtype in ("float32", "float64"):
            alarms, fixed, weights, seconds = 0, 0, 0, []
            for seed in range(seeds):
                keras.utils.set_random_seed(seed)
                built = port.tf2_program(dtype=dtype)
                model = built["model"]
                x, y = batch[built.get("inputs", "x")], batch[built.get("targets", "y")]
                weights = sum(int(v.numpy().size) for v in model.trainable_variables)
                loss = keras.losses.get(model.loss) if isinstance(model.loss, str) else model.loss
                start = time.perf_counter()
                try:
                    check_model_gradients(model, x, y, loss, order=order)
                except GradientMismatch as mismatch:
                    alarms += 1
                    print(f"  {program.name} {dtype} seed {seed}: {mismatch}")
                seconds.append(time.perf_counter() - start)
                if fixed_step:
                    fixed += fixed_step_alarm(model, x.astype(dtype), y.astype(dtype), loss)
            keras.config.set_floatx("float32")
            keras.config.set_dtype_policy("float32")
            print(
                f"{program.name} ({weights} weights) {dtype}: {alarms} of {seeds} seeds failed, "
                f"median {np.median(seconds):.2f} s a check"
                + (f"; the fixed-step check failed {fixed}" if fixed_step else ""),
                flush=True,
            )


@dataclass
class Judged:
    """One variable as a full check judged it: its elements (flat indices; the kinks left out),
    their analytic and numeric gradients, and its worst element in units of the bound."""

    name: str
    elements: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray
    worst: float


@contextmanager
def judgements() -> Iterator[list[Judged]]:
    """Every variable that the checks inside judge element by element, recorded as it is
    judged (``backprop_suite.gradcheck.check.judged`` wrapped, and put back after)."""
    from backprop_suite.gradcheck import check

    original, recorded = check.judged, []

    def recording(variable, slopes, tolerance, checked):
        report = original(variable, slopes, tolerance, checked)
        smooth = ~np.asarray(slopes.rough, bool)
        analytic = np.asarray(variable.analytic, np.float64).ravel()[slopes.elements]
        numeric = np.asarray(slopes.central, np.float64)
        elements = np.asarray(slopes.elements)[smooth]
        recorded.append(
            Judged(variable.name, elements, analytic[smooth], numeric[smooth], report.worst)
        )
        return report

    check.judged = recording
    try:
        yield recorded
    finally:
        check.judged = original


@dataclass
class Errors:
    """The worst distances of analytic from numeric gradients over many checks, and where:
    ``|a - n| / scale`` (scale: the variable's largest |numeric|, at least 1, as the bound's)
    and ``|a - n| / |n|`` where ``|n|`` is ``LARGE`` (a tenth of the scale or more); and for
    each of ``RTOLS``, the smallest atol that passes every element beside it."""

    absolute: float = 0.0
    absolute_at: str = ""
    relative: float = 0.0
    relative_at: str = ""
    needed: dict[float, float] = field(default_factory=lambda: dict.fromkeys(RTOLS, 0.0))

    def add(self, judged: Judged, where: str) -> None:
        if not judged.numeric.size:
            return
        scale = max(1.0, float(np.max(np.abs(judged.numeric))))
        gap = np.abs(judged.analytic - judged.numeric)
        for rtol in RTOLS:
            least = float(np.max(gap - rtol * np.abs(judged.numeric))) / scale
            self.needed[rtol] = max(self.needed[rtol], least)
        worst = int(np.argmax(gap))
        if gap[worst] / scale > self.absolute:
            self.absolute = float(gap[worst] / scale)
            self.absolute_at = self.at(judged, worst, where)
        large = np.flatnonzero(np.abs(judged.numeric) >= LARGE * scale)
        if large.size:
            ratio = gap[large] / np.abs(judged.numeric[large])
            worst = int(large[np.argmax(ratio)])
            if ratio.max() > self.relative:
                self.relative = float(ratio.max())
                self.relative_at = self.at(judged, worst, where)

    def merge(self, other: Errors) -> None:
        if other.absolute > self.absolute:
            self.absolute, self.absolute_at = other.absolute, other.absolute_at
        if other.relative > self.relative:
            self.relative, self.relative_at = other.relative, other.relative_at
        self.needed = {r: max(self.needed[r], other.needed[r]) for r in RTOLS}

    @staticmethod
    def at(judged: Judged, element: int, where: str) -> str:
        flat = int(judged.elements[element])
        analytic, numeric = judged.analytic[element], judged.numeric[element]
        return (
            f"{where} {judged.name} flat [{flat}]: analytic {analytic:.6g}, numeric {numeric:.6g}"
        )

    def text(self) -> str:
        return (
            f"worst |a-n|/scale {self.absolute:.3g} ({self.absolute_at}); worst |a-n|/|n| where "
            f"|n| >= scale/{1 / LARGE:g} {self.relative:.3g} ({self.relative_at}); the smallest "
            "atol beside rtol "
            + ", ".join(f"{rtol:g}: {atol:.3g}" for rtol, atol in self.needed.items())
        )


@dataclass
class FieldRun:
    """One field model under one policy over seeds: the checks that failed (seed, message),
    each check's worst element in units of its bound, the seconds of each check, and the raw
    errors."""

    failed: list[tuple[int, str]] = field(default_factory=list)
    worst: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: Errors = field(default_factory=Errors)


def field_run(module: ModuleType, name: str, seeds: int, bug: bool, bound: dict) -> FieldRun:
    """The field model built under the policy ``name`` (put back after), its weights drawn
    under ``seeded(seed)`` for every seed, checked in full at ``bound`` (atol, rtol; the
    library's own where empty) on the model's data."""
    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
    from backprop_suite.gradcheck.reference import dtype_policy as policy
    from backprop_suite.seeds import seeded

    run = FieldRun()
    x, y = module.data()
    for seed in range(seeds):
        with seeded(seed), policy(name):
            model = module.model(bug=bug)
        with judgements() as judged:
            start = time.perf_counter()
            try:
                check_model_gradients(model, x, y, module.loss(), training=module.TRAINING, **bound)
            except GradientMismatch as mismatch:
                run.failed.append((seed, str(mismatch)))
            except Exception as error:
                run.failed.append((seed, f"CRASH {type(error).__name__}: {error}"))
            run.seconds.append(time.perf_counter() - start)
        run.worst.append(max((variable.worst for variable in judged), default=0.0))
        for variable in judged:
            run.errors.add(variable, f"seed {seed}")
    return run


def field_models(
    names: list[str], policies: tuple[str, ...] | None, seeds: int, errors: bool, bugs: bool
) -> None:
    """Per field model and policy, the false alarms of ``seeds`` (each failure's message), the
    worst element against its bound and the median seconds a check; with ``errors``, the raw
    errors instead, checked at ``MEASURING``, and the worst of each compute precision over all
    the models; with ``bugs``, how many of the bugged models' checks name the bug."""
    from backprop_suite.bench.gradcheck_field import FIELD, field_module

    overall: dict[str, Errors] = {}
    for stem in names:
        with field_module(FIELD / f"{stem}.py") as module:
            for name in policies or getattr(module, "POLICIES", ("float32", "float64")):
                run = field_run(module, name, seeds, False, MEASURING if errors else {})
                head = f"{stem} {name}"
                median = f"median {np.median(run.seconds):.2f} s a check"
                for seed, message in run.failed:
                    print(f"  {head} seed {seed}: {message}")
                if errors:
                    overall.setdefault(name, Errors()).merge(run.errors)
                    print(f"{head}: {run.errors.text()}; {median}", flush=True)
                    continue
                print(
                    f"{head}: {len(run.failed)} of {seeds} seeds failed, worst "
                    f"{max(run.worst):.3g} of the bound; {median}",
                    flush=True,
                )
                if bugs:
                    caught = field_run(module, name, seeds, True, {})
                    named = sum(module.BUG in message for _, message in caught.failed)
                    print(
                        f"{head} with its bug: caught and named in {named} of {seeds} seeds, "
                        f"the least {min(caught.worst):.3g} times the bound",
                        flush=True,
                    )
    for name, found in overall.items():
        print(f"{name}, all models: {found.text()}")


def main() -> None:
    import keras

    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--gallery", action="store_true")
    parser.add_argument("--fixed-step", action="store_true", help="--gallery: that check too")
    parser.add_argument("--order", type=int, choices=(1, 2), default=1, help="--gallery: 2 too")
    parser.add_argument("--field", help="field models by name, comma-separated")
    parser.add_argument("--policies", help="--field: dtype policies, comma-separated")
    parser.add_argument("--errors", action="store_true", help="--field: the raw errors")
    parser.add_argument("--bugs", action="store_true", help="--field: the planted bugs too")
    args = parser.parse_args()
    seeds = args.seeds
    if args.field:
        policies = tuple(args.policies.split(",")) if args.policies else None
        field_models(args.field.split(","), policies, seeds, args.errors, args.bugs)
        return
    if args.gallery:
        gallery(seeds, args.fixed_step, args.order)
        return
    for dtype in ("float32", "float64"):
        ours = fixed = 0
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            model = keras.Sequential(
                [
                    keras.Input((3,)),
                    keras.layers.Dense(5, activation="tanh", dtype=dtype),
                    keras.layers.Dense(2, dtype=dtype),
                ]
            )
            rng = np.random.default_rng(seed)
            x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
            loss = keras.losses.MeanSquaredError(dtype=dtype)
            try:
                check_model_gradients(model, x, y, loss)
            except GradientMismatch:
                ours += 1
            fixed += fixed_step_alarm(model, x.astype(dtype), y.astype(dtype), loss)
        print(f"{dtype}: false alarms over {seeds} seeds: gradcheck {ours}, fixed step {fixed}")


if __name__ == "__main__":
    main()
