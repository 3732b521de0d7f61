"""The six stages of ``tf_impl/MIGRATION.md`` section 3, run on any TF1 program and its port.

weights -> forward pass -> loss -> gradients -> one step -> many steps: each compares the port
with what the TF1 program did (``Record``), and the check stops at the first stage that disagrees,
because every later stage only amplifies an earlier difference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from tf_impl.migration import hints
from tf_impl.migration.differences import Difference, at, difference, worst
from tf_impl.migration.options import Options
from tf_impl.migration.port import Port, make_port
from tf_impl.migration.programs import call, function, load_module, program_file
from tf_impl.migration.random_ops import random_mode
from tf_impl.migration.record import Record
from tf_impl.migration.tf1_run import run_tf1
from tf_impl.migration.weights import Link, link_weights

STAGES = ("weights", "forward", "loss", "gradients", "one step", "many steps")


@dataclass
class StageResult:
    """One stage: whether it agrees (``None``: skipped, with the reason in ``where``), the
    largest absolute difference, where the worst element is, its two values, and a hint."""

    stage: str
    agrees: bool | None
    largest: float = 0.0
    where: str = ""
    new: float | None = None
    old: float | None = None
    tolerance: str = ""
    hint: str | None = None

    def line(self) -> str:
        if self.agrees is None:
            return f"{self.stage:<11} skipped: {self.where}"
        verdict = "agrees" if self.agrees else "DISAGREES"
        exact = "bit for bit" if self.largest == 0 else f"largest |diff| {self.largest:.2e}"
        text = f"{self.stage:<11} {verdict}: {exact} ({self.tolerance})"
        if not self.agrees:
            text += f"\n  at {self.where}: port {self.new!r}, TF1 {self.old!r}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class Report:
    stages: list[StageResult]
    settings: dict = field(default_factory=dict)

    @property
    def agrees(self) -> bool:
        return all(stage.agrees is not False for stage in self.stages)

    @property
    def failed(self) -> StageResult | None:
        return next((stage for stage in self.stages if stage.agrees is False), None)

    def text(self) -> str:
        lines = [stage.line() for stage in self.stages]
        if self.settings.get("tf1_diverges_at_step"):
            lines.append(
                f"note: TF1's loss is not finite from step {self.settings['tf1_diverges_at_step']}:"
                " the run diverges (NaN or infinity), so later steps compare nothing useful"
            )
        if self.agrees:
            lines.append(f"agree: every stage within tolerance over {self.settings['steps']} steps")
        else:
            lines.append(f"disagree: stopped at the {self.failed.stage} stage")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "agrees": self.agrees,
            "settings": self.settings,
            "stages": [asdict(s) for s in self.stages],
        }


class Checker:
    def __init__(self, record: Record, port: Port, links: list[Link], options: Options) -> None:
        self.record, self.port, self.links = record, port, links
        self.rtol, self.atol = options.tolerances(record.dtype)
        self.steps = len(record.batches)
        self.first = record.batches[0]

    def name(self, link: Link) -> str:
        new, old = self.port.names[link.port], self.record.names[link.tf1]
        return new if new == old else f"{new} (TF1 {old})"

    def carried(self, values: list[np.ndarray]) -> list[np.ndarray]:
        return [link.carry(values[link.tf1]) for link in self.links]

    def result(self, stage: str, diff: Difference, where: str, exact: bool = False) -> StageResult:
        tolerance = "bit for bit asked" if exact else f"rtol {self.rtol:g}, atol {self.atol:g}"
        return StageResult(stage, diff.agrees, diff.largest, where, diff.new, diff.old, tolerance)

    def over_variables(
        self, stage: str, new: list, old: list, exact: bool = False, prefix: str = ""
    ) -> StageResult:
        rtol, atol = (0.0, 0.0) if exact else (self.rtol, self.atol)
        diffs = [difference(n, o, rtol, atol) for n, o in zip(new, old)]
        i, diff = worst(diffs)
        result = self.result(stage, diff, prefix + at(self.name(self.links[i]), diff.index), exact)
        result.largest = max(d.largest for d in diffs)
        return result

    def weights(self) -> StageResult:
        carried = self.carried(self.record.initial)
        for link, value, variable in zip(self.links, carried, self.port.variables):
            if np.dtype(getattr(variable.dtype, "name", variable.dtype)) != value.dtype:
                result = StageResult("weights", False, float("inf"), self.name(link))
                result.tolerance = "bit for bit asked"
                result.hint = hints.dtype_mismatch(self.name(link), value.dtype, variable.dtype)
                return result
        self.port.assign(carried)
        self.start = self.port.values()
        return self.over_variables("weights", self.start, carried, exact=True)

    def forward(self) -> StageResult:
        if self.record.outputs is None or not self.port.has_outputs:
            side = "TF1's tf1_program()" if self.record.outputs is None else "the port"
            return StageResult("forward", None, where=f"{side} gives no outputs")
        new, old = np.asarray(self.port.outputs_of(self.first)), self.record.outputs
        if new.size != old.size:
            where = f"outputs of shape {list(new.shape)} against TF1's {list(old.shape)}"
            return StageResult("forward", False, float("inf"), where, tolerance="the same shape")
        diff = difference(new.reshape(old.shape), old, self.rtol, self.atol)
        return self.result("forward", diff, at("outputs", diff.index))

    def loss(self) -> StageResult:
        new = np.asarray(self.port.loss_of(self.first))
        diff = difference(new, self.record.loss, self.rtol, self.atol)
        return self.result("loss", diff, "the loss of the first batch")

    def gradients(self) -> StageResult:
        new = [np.asarray(g) for g in self.port.grads_of(self.first)]
        old = [link.carry_gradient(self.record.grads[link.tf1]) for link in self.links]
        return self.over_variables("gradients", new, old, prefix="the gradient of ")

    def training(self) -> list[StageResult]:
        """Step by step: the loss before each update, then every variable after it. The first
        step is its own stage; the rest report their worst, or the first step that fails."""
        results, largest = [], 0.0
        for step, batch in enumerate(self.record.batches):
            stage = "one step" if step == 0 else "many steps"
            loss = difference(
                np.asarray(self.port.loss_of(batch)), self.record.losses[step], self.rtol, self.atol
            )
            self.port.train_step(batch)
            if not loss.agrees:
                return results + [
                    self.result(stage, loss, f"step {step + 1}: the loss before the update")
                ]
            after = self.over_variables(
                stage,
                self.port.values(),
                self.carried(self.record.after[step]),
                prefix=f"step {step + 1}, after the update: ",
            )
            if not after.agrees:
                return results + [after]
            after.largest = max(after.largest, loss.largest)
            if step == 0:
                results.append(after)
            largest = max(largest, after.largest)
        if self.steps > 1:
            results.append(StageResult("many steps", True, largest, tolerance=results[0].tolerance))
        return results

    def run(self) -> list[StageResult]:
        results: list[StageResult] = []
        for stage in (self.weights, self.forward, self.loss, self.gradients):
            results.append(stage())
            if results[-1].agrees is False:
                break
        else:
            results.extend(self.training())
        failed = results[-1]
        if failed.agrees is False and failed.hint is None:
            failed.hint = hints.explain(failed, self)
        return results


@contextlib.contextmanager
def kept_floatx() -> Iterator[None]:
    """The port is built with Keras's defaults, floatx and dtype policy float32, as in a fresh
    process (Keras fixes its dtype policy at first use, so an earlier float64 model in the same
    process would make the port's layers float64); the caller's settings are put back after."""
    import keras

    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def port_program(new_path: str):
    """NEW.py's module and its ``tf2_program``: read before the TF1 program runs, so that a
    missing function is reported before any work."""
    import tensorflow as tf

    module = load_module(new_path)
    if not tf.executing_eagerly():
        raise ValueError(
            f"{new_path} turned eager execution off (tf.compat.v1.disable_eager_execution or "
            "disable_v2_behavior): a TF2 port runs eagerly, and the TF1 program needs no such call"
        )
    return module, function(module, "tf2_program", new_path)


def check_port(record: Record, new_path: str, options: Options = Options(), program=None) -> Report:
    """Run the port in ``new_path`` through the six stages against ``record``."""
    module, tf2_program = program or port_program(new_path)
    with random_mode(options.random), kept_floatx():
        built = call(tf2_program, new_path, **({"dtype": options.dtype} if options.dtype else {}))
        port = make_port(built, new_path)
        weight_map = getattr(module, "WEIGHT_MAP", None)
        links = link_weights(record.names, record.initial, port.names, port.values(), weight_map)
        stages = Checker(record, port, links, options).run()
    rtol, atol = options.tolerances(record.dtype)
    settings = dict(
        record.meta, steps=len(record.batches), dtype=record.dtype, rtol=rtol, atol=atol
    )
    diverged = np.flatnonzero(~np.isfinite(record.losses))
    settings["tf1_diverges_at_step"] = int(diverged[0]) + 1 if diverged.size else None
    return Report(stages, settings)


def check_migration(old_path: str, new_path: str, options: Options = Options()) -> Report:
    """Run ``tf1_program()`` from ``old_path`` (in its own process), then the port."""
    program_file(old_path)
    program = port_program(new_path)
    record = run_tf1(
        old_path, options.steps, options.dtype, options.random, options.seed, options.data
    )
    return check_port(record, new_path, options, program)
