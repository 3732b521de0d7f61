"""The six stages of ``docs/migration_guide.md`` section 3, run on any TF1 program and its port.

weights -> forward pass -> loss -> gradients -> one step -> many steps: each compares the port
with what the TF1 program did (``Record``), and the check stops at the first stage that disagrees,
because every later stage only amplifies an earlier difference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from backprop_suite.migration import hints
from backprop_suite.migration.differences import Outside, at, in_envelopes, worst
from backprop_suite.migration.envelope import Envelope, measure_envelope
from backprop_suite.migration.old_program import OldProgram, from_meta, old_program
from backprop_suite.migration.options import Options
from backprop_suite.migration.port import Port, make_port
from backprop_suite.migration.programs import call, function, load_module
from backprop_suite.migration.random_ops import random_mode
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1_run import run_tf1
from backprop_suite.migration.weights import Link, link_weights
from backprop_suite.verify.rounding import MARGIN
from backprop_suite.verify.tolerances import Difference, Tolerance, difference

STAGES = ("weights", "forward", "loss", "gradients", "one step", "many steps")


@dataclass
class StageResult:
    """One stage: whether it agrees (``None``: skipped, with the reason in ``where``); the
    largest absolute difference over every element (and every step) it checked and where that
    is (``largest_at``); the element furthest outside the per-element tolerance (``where``) with
    its two values; and a hint. The steps after the first may agree within ``MARGIN`` envelopes
    where the per-element tolerance fails (``strict``: where it first failed); ``envelopes`` is
    the port's largest distance from TF1 in envelopes, where measured; ``step``: the last step a
    training stage checked."""

    stage: str
    agrees: bool | None
    largest: float = 0.0
    where: str = ""
    new: float | None = None
    old: float | None = None
    tolerance: str = ""
    hint: str | None = None
    largest_at: str = ""
    strict: str | None = None
    envelopes: float | None = None
    envelope_at: str = ""
    step: int | None = None

    def line(self) -> str:
        if self.agrees is None:
            return f"{self.stage:<11} skipped: {self.where}"
        verdict = "agrees" if self.agrees else "DISAGREES"
        if self.largest == 0:
            exact = "bit for bit"
        else:
            exact = f"largest |port - TF1| {self.largest:.2e}"
            exact += f" {self.largest_at}" if self.largest_at else ""
        text = f"{self.stage:<11} {verdict}: {exact} ({self.tolerance})"
        if self.strict:
            text += f"\n  per element: outside the tolerance at {self.strict}"
        if self.envelopes:
            times = "infinitely many" if np.isinf(self.envelopes) else f"{self.envelopes:.3g}"
            text += (
                f"\n  envelope: at most {times} times how far TF1 moves from itself"
                f" (margin {MARGIN}){self.envelope_at}"
            )
        if not self.agrees and self.where:
            text += f"\n  furthest outside the tolerance: {self.where}: port {self.new!r}, TF1 "
            text += repr(self.old)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class Report:
    stages: list[StageResult]
    settings: dict = field(default_factory=dict)
    envelope: dict | None = None
    printed: str | None = None  # what a script printed, apart from the report

    @property
    def agrees(self) -> bool:
        return all(stage.agrees is not False for stage in self.stages)

    @property
    def failed(self) -> StageResult | None:
        return next((stage for stage in self.stages if stage.agrees is False), None)

    def text(self) -> str:
        lines = [stage.line() for stage in self.stages]
        compared = self.settings.get("state", {})
        for name, why in self.settings.get("untrained", {}).items():
            line = f"not paired as a weight: TF1's {name}, trainable, but {why}"
            if name in compared:
                line += f"; compared with the port's {compared[name]} after every step"
            lines.append(line)
        if self.envelope:
            where = (
                "on the first batch" if self.envelope["first_batch_only"] else "at the last step"
            )
            lines.append(
                f"envelope {where}: "
                + ", ".join(f"{k} {v:.1e}" for k, v in self.envelope["last_step"].items())
            )
            lines += [f"envelope: not measured: {why}" for why in self.envelope["missing"]]
        carried = self.settings.get("optimizer_state")
        if carried is not None:
            where = self.settings.get("checkpoint")
            if carried["carried"]:
                lines.append(
                    f"from {where}: the optimizer's state carried into the port's "
                    f"({len(carried['carried'])} entries)"
                )
            lines += [f"from {where}: not carried: {why}" for why in carried["not_carried"]]
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
            "envelope": self.envelope,
        }


@dataclass
class Step:
    """One training step compared: the loss before the update and each port variable and state
    after it, per element against the tolerance (``diffs``) and, once the envelope is measured,
    against it (``outside``)."""

    names: list[str]
    diffs: list[Difference]
    outside: list[Outside] | None = None

    @property
    def strict(self) -> bool:
        return all(d.agrees for d in self.diffs)

    @property
    def within_envelope(self) -> bool:
        return self.outside is not None and all(o.envelopes <= MARGIN for o in self.outside)


def furthest(outside: list[Outside]) -> int:
    return max(range(len(outside)), key=lambda i: outside[i].envelopes)


def judged(result: StageResult, names: list[str], outside: list[Outside]) -> StageResult:
    """``result`` judged by its envelopes: it agrees when the element furthest outside is
    within ``MARGIN`` envelopes, and says where the per-element tolerance failed."""
    i = furthest(outside)
    result.agrees = outside[i].envelopes <= MARGIN
    result.strict = at(names[i], outside[i].index)
    result.envelopes = outside[i].envelopes
    result.envelope_at = f", at {outside[i].describe(names[i])}"
    return result


class Checker:
    def __init__(
        self,
        record: Record,
        port: Port,
        links: list[Link],
        options: Options,
        state: list[Link] = (),
        envelope: Callable[[bool], Envelope] | None = None,
        after_weights: Callable[[], object] | None = None,
    ) -> None:
        self.record, self.port, self.links, self.state = record, port, links, list(state)
        self.after_weights = after_weights  # the optimizer's state from a checkpoint
        self.optimizer_state = None
        self.bound = options.tolerance(record.dtype)
        self.steps = len(record.batches)
        self.first = record.batches[0]
        self.measure_envelope = envelope
        self.envelope: Envelope | None = None

    def own_envelope(self, steps: bool = True) -> Envelope | None:
        """TF1's envelope, measured the first time a stage needs it (None: not measured): of
        the first batch alone for the stages on it (``steps=False``), of every step after."""
        needed = self.envelope is None or (steps and self.envelope.first_batch_only)
        if needed and self.measure_envelope is not None:
            self.envelope = self.measure_envelope(not steps)
        return self.envelope

    def name(self, link: Link) -> str:
        new, old = self.port.names[link.port], self.record.names[link.tf1]
        return new if new == old else f"{new} (TF1 {old})"

    def state_name(self, link: Link) -> str:
        new, old = self.port.state_names[link.port], self.record.state_names[link.tf1]
        return new if new == old else f"{new} (TF1 {old})"

    def carried(self, values: list[np.ndarray]) -> list[np.ndarray]:
        return [link.carry(values[link.tf1]) for link in self.links]

    @contextlib.contextmanager
    def guarded(self, stage: str, batch: dict | None = None) -> Iterator[None]:
        """An exception from the port's code is one ``ValueError`` that names the port's file,
        the stage and the shapes the port was given."""
        try:
            yield
        except Exception as error:
            shapes = ""
            if batch is not None:
                given = ", ".join(f"{k} {list(np.shape(v))}" for k, v in batch.items())
                shapes = f", given {given}"
            raise ValueError(
                f"{self.port.path}: the port raised at the {stage} stage{shapes}: "
                f"{type(error).__name__}: {last_line(error)}"
            ) from None

    def result(self, stage: str, diff: Difference, where: str, exact: bool = False) -> StageResult:
        tolerance = "bit for bit asked" if exact else self.tolerance
        return StageResult(stage, diff.agrees, diff.largest, where, diff.new, diff.old, tolerance)

    @property
    def tolerance(self) -> str:
        return f"rtol {self.bound.rtol:g}, atol {self.bound.atol:g}"

    def over_variables(
        self, stage: str, new: list, old: list, exact: bool = False, prefix: str = ""
    ) -> StageResult:
        bound = Tolerance(atol=0.0, rtol=0.0) if exact else self.bound
        diffs = [difference(n, o, bound) for n, o in zip(new, old)]
        i, diff = worst(diffs)
        result = self.result(stage, diff, prefix + at(self.name(self.links[i]), diff.index), exact)
        largest = max(range(len(diffs)), key=lambda j: diffs[j].largest)
        result.largest = diffs[largest].largest
        result.largest_at = f"at {prefix}{self.name(self.links[largest])}"
        return result

    def weights(self) -> StageResult:
        carried = self.carried(self.record.initial)
        for link, value, variable in zip(self.links, carried, self.port.variables):
            if np.dtype(getattr(variable.dtype, "name", variable.dtype)) != value.dtype:
                result = StageResult("weights", False, float("inf"), self.name(link))
                result.tolerance = "bit for bit asked"
                result.hint = hints.dtype_mismatch(self.name(link), value.dtype, variable.dtype)
                return result
        with self.guarded("weights"):
            self.port.assign(carried)
            self.port.assign_state(
                [link.port for link in self.state],
                [link.carry(self.record.state_initial[link.tf1]) for link in self.state],
            )
            if self.after_weights is not None:
                self.optimizer_state = self.after_weights()
            self.start = self.port.values()
        return self.over_variables("weights", self.start, carried, exact=True)

    def forward(self) -> StageResult:
        if self.record.outputs is None or not self.port.has_outputs:
            side = "the port gives no outputs"
            if self.record.outputs is None:
                side = "TF1's tf1_program() gives no outputs"
                if self.record.meta.get("script"):
                    side = "no --outputs NAME names the script's output tensor"
            return StageResult("forward", None, where=side)
        with self.guarded("forward", self.first):
            new = np.asarray(self.port.outputs_of(self.first))
        old = self.record.outputs
        if new.size != old.size:
            where = f"outputs of shape {list(new.shape)} against TF1's {list(old.shape)}"
            return StageResult("forward", False, float("inf"), where, tolerance="the same shape")
        new = new.reshape(old.shape)
        diff = difference(new, old, self.bound)
        result = self.result("forward", diff, at("outputs", diff.index))
        return self.within_own_envelope(result, "outputs", new, old, Envelope.outputs)

    def loss(self) -> StageResult:
        with self.guarded("loss", self.first):
            new = np.asarray(self.port.loss_of(self.first))
        diff = difference(new, self.record.loss, self.bound)
        result = self.result("loss", diff, "the loss of the first batch")
        return self.within_own_envelope(
            result, "the loss of the first batch", new, self.record.loss, lambda e: e.loss(0)
        )

    def within_own_envelope(self, result: StageResult, name: str, new, old, own) -> StageResult:
        """A first-batch stage outside the per-element tolerance judged again against how far
        TF1's own value moves (``own(envelope)``), where that was measured: a sum of terms much
        larger than itself carries their rounding, in TF1 as in any port."""
        envelope = None if result.agrees else self.own_envelope(steps=False)
        spread = None if envelope is None else own(envelope)
        if spread is None:
            return result
        return judged(result, [name], [in_envelopes(new, old, self.bound, spread)])

    def gradients(self) -> StageResult:
        """Within the per-element tolerance, or within ``MARGIN`` times how far TF1's own
        gradient moves (a gradient that sums terms much larger than itself carries their
        rounding, whatever the port)."""
        with self.guarded("gradients", self.first):
            new = [np.asarray(g) for g in self.port.grads_of(self.first)]
        old = [link.carry_gradient(self.record.grads[link.tf1]) for link in self.links]
        result = self.over_variables("gradients", new, old, prefix="the gradient of ")
        envelope = None if result.agrees else self.own_envelope(steps=False)
        if envelope is None:
            return result
        names = [f"the gradient of {self.name(link)}" for link in self.links]
        own = [self.carried_envelope(link, envelope.gradient(link.tf1)) for link in self.links]
        outside = [in_envelopes(n, o, self.bound, e) for n, o, e in zip(new, old, own)]
        return judged(result, names, outside)

    def carried_envelope(self, link: Link, envelope: np.ndarray) -> np.ndarray:
        """A TF1 variable's envelope in the port's layout, by the transform's linear part."""
        return np.abs(link.carry_gradient(np.asarray(envelope, np.float64)))

    def compare_step(self, step: int, loss: np.ndarray) -> Step:
        """The loss before the update of ``step`` and every variable after it, against TF1."""
        names = ["the loss before the update"] + [self.name(link) for link in self.links]
        new = [loss] + self.port.values()
        old = [self.record.losses[step]] + self.carried(self.record.after[step])
        if self.state:
            names += [self.state_name(link) for link in self.state]
            values = self.port.state_values()
            for link in self.state:
                new.append(values[link.port])
                old.append(link.carry(self.record.state_after[step][link.tf1]))
        found = Step(names, [difference(n, o, self.bound) for n, o in zip(new, old)])
        if self.envelope is not None and not self.envelope.first_batch_only:
            count = len(self.record.names)
            own = [self.envelope.loss(step)]
            own += [self.carried_envelope(k, self.envelope.after(step, k.tf1)) for k in self.links]
            own += [
                self.carried_envelope(k, self.envelope.after(step, count + k.tf1))
                for k in self.state
            ]
            found.outside = [in_envelopes(n, o, self.bound, e) for n, o, e in zip(new, old, own)]
        return found

    def trajectory(self) -> list[Step]:
        """Every step compared, stopping at the first one outside both the per-element tolerance
        and the envelope (measured when a step first needs it), or outside the tolerance with no
        envelope to measure."""
        steps: list[Step] = []
        for step, batch in enumerate(self.record.batches):
            with self.guarded("one step" if step == 0 else "many steps", batch):
                loss = np.asarray(self.port.loss_of(batch))
                self.port.train_step(batch)
            found = self.compare_step(step, loss)
            if found.outside is None and not found.strict and self.own_envelope() is not None:
                found = self.compare_step(step, loss)
            steps.append(found)
            if not found.strict and not found.within_envelope:
                break
        self.last_step = steps[-1]
        return steps

    def only_state_apart(self) -> list[str]:
        """The state variables outside the tolerance at the last step compared, when the loss
        and every trained variable are within it; [] otherwise."""
        step = getattr(self, "last_step", None)
        if step is None:
            return []
        trained = 1 + len(self.links)
        if not all(d.agrees for d in step.diffs[:trained]):
            return []
        return [name for name, d in zip(step.names[trained:], step.diffs[trained:]) if not d.agrees]

    def training(self) -> list[StageResult]:
        """The first step is its own stage, the rest are one: each step within the per-element
        tolerance or within ``MARGIN`` envelopes."""
        steps = self.trajectory()
        results = [self.stage_of("one step", steps[:1], 0)]
        if results[0].agrees and self.steps > 1:
            results.append(self.stage_of("many steps", steps[1:], 1))
        return results

    def stage_of(self, stage: str, steps: list[Step], first: int) -> StageResult:
        last = steps[-1]
        agrees = last.strict or last.within_envelope
        number = first + len(steps)
        k, diff = worst(last.diffs)
        where = f"step {number}, " + ("the loss before the update" if k == 0 else "after it: ")
        where += at(last.names[k], diff.index) if k else ""
        result = StageResult(stage, agrees, tolerance=self.tolerance, where=where, step=number)
        result.new, result.old = diff.new, diff.old
        largest = max(
            ((s.diffs[j].largest, i, j) for i, s in enumerate(steps) for j in range(len(s.diffs))),
            default=(0.0, 0, 0),
        )
        result.largest = largest[0]
        span = f"step {first + 1}" if len(steps) == 1 else f"steps {first + 1}-{number}"
        result.largest_at = (
            f"over {span}, at step {first + 1 + largest[1]}: {steps[0].names[largest[2]]}"
        )
        outside = next((i for i, s in enumerate(steps) if not s.strict), None)
        if outside is not None:
            bad = steps[outside]
            j, d = worst(bad.diffs)
            result.strict = (
                f"step {first + 1 + outside} first ({at(bad.names[j], d.index)}: {d.excess:.3g} "
                "times its tolerance)"
            )
        measured = [
            (s.outside[furthest(s.outside)].envelopes, i)
            for i, s in enumerate(steps)
            if s.outside is not None
        ]
        if measured:
            result.envelopes, i = max(measured)
            j = furthest(steps[i].outside)
            result.envelope_at = (
                f", at step {first + 1 + i}: {steps[i].outside[j].describe(steps[i].names[j])}"
            )
        return result

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


def last_line(error: BaseException) -> str:
    """The last line of an exception's message that says something (Keras's traces end in it)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else repr(error)


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


def split_weight_map(weight_map: dict | None, record: Record) -> tuple:
    """``WEIGHT_MAP``'s entries for trained variables, and those for TF1 state (variables no
    gradient reaches, moving statistics, counters), which are compared but not trained."""
    state_names = record.state_names
    if weight_map is None:
        return None, {}
    if not isinstance(weight_map, dict):
        raise ValueError(f"WEIGHT_MAP must be a dict, got {type(weight_map).__name__}")
    trained = {k: v for k, v in weight_map.items() if k not in state_names}
    every = record.meta.get("variables", [])
    unkept = [k for k in trained if k not in record.names and k in every]
    if unkept:
        raise ValueError(
            f"WEIGHT_MAP names TF1's {unkept}, which TF1 does not train and its record did not "
            "keep: record it with run_tf1(..., keep=WEIGHT_MAP's names), as check_migration does"
        )
    return trained, {k: v for k, v in weight_map.items() if k in state_names}


def check_port(record: Record, new_path: str, options: Options = Options(), program=None) -> Report:
    """Run the port in ``new_path`` through the six stages against ``record``."""
    module, tf2_program = program or port_program(new_path)
    meta = record.meta

    def measure(first_batch_only: bool) -> Envelope:
        """The record's envelope, kept on it for every port checked against it: of the first
        batch, or of every step (which the first batch's is part of)."""
        found = record.envelope
        if found is None or (found.first_batch_only and not first_batch_only):
            record.envelope = measure_envelope(
                from_meta(meta),
                record,
                meta.get("dtype"),
                meta["random"],
                meta["seed"],
                first_batch_only,
            )
        return record.envelope

    with random_mode(options.random), kept_floatx():
        built = call(tf2_program, new_path, **({"dtype": options.dtype} if options.dtype else {}))
        port = make_port(built, new_path)
        trained_map, state_map = split_weight_map(getattr(module, "WEIGHT_MAP", None), record)
        links = link_weights(record.names, record.initial, port.names, port.values(), trained_map)
        state = link_weights(
            record.state_names,
            record.state_initial,
            port.state_names,
            port.state_values(),
            state_map,
            complete=False,
        )
        checker = Checker(
            record,
            port,
            links,
            options,
            state,
            None if options.envelope == "off" else measure,
            optimizer_state(record, links, state, port),
        )
        if options.envelope == "always":
            checker.own_envelope()
        stages = checker.run()
    bound = options.tolerance(record.dtype)
    settings = dict(
        record.meta, steps=len(record.batches), dtype=record.dtype, rtol=bound.rtol, atol=bound.atol
    )
    settings["state"] = {
        record.state_names[link.tf1]: port.state_names[link.port] for link in state
    }
    diverged = np.flatnonzero(~np.isfinite(record.losses))
    settings["tf1_diverges_at_step"] = int(diverged[0]) + 1 if diverged.size else None
    if checker.optimizer_state is not None:
        carried = checker.optimizer_state
        settings["optimizer_state"] = {"carried": carried.carried, "not_carried": carried.missing}
    printed = settings.pop("printed", None)
    return Report(stages, settings, summary(checker.envelope, len(record.batches)), printed)


def optimizer_state(record: Record, links: list[Link], state: list[Link], port: Port):
    """For a record started from a checkpoint: what carries the checkpoint's optimizer state
    into the port's optimizer once its weights are in (``slots.carry_slots``); None otherwise."""
    checkpoint = record.meta.get("checkpoint")
    if checkpoint is None:
        return None
    from backprop_suite.migration.checkpoints import read_checkpoint
    from backprop_suite.migration.slots import carry_slots

    values = read_checkpoint(checkpoint)
    steps_mapped = any(port.state_names[k.port].endswith("/iteration") for k in state)
    return lambda: carry_slots(values, record.names, links, port, steps_mapped)


def summary(envelope: Envelope | None, steps: int) -> dict | None:
    """What the report says of the envelope: how far each source moved TF1 at the last step,
    and the sources it could not measure."""
    if envelope is None:
        return None
    step = None if envelope.first_batch_only else steps - 1
    return {
        "first_batch_only": envelope.first_batch_only,
        "last_step": {source: envelope.largest(source, step) for source in envelope.sources},
        "missing": [
            f"{source}: the train_op is no tf.compat.v1.train optimizer's"
            for source in envelope.missing
        ],
    }


def check_migration(old: OldProgram | str, new_path: str, options: Options = Options()) -> Report:
    """Run the TF1 program (in its own process): ``tf1_program()``, or a script as it is
    written (``old_program``); then the port."""
    old = old if isinstance(old, OldProgram) else old_program(old)
    program = port_program(new_path)
    weight_map = getattr(program[0], "WEIGHT_MAP", None)
    keep = list(weight_map) if isinstance(weight_map, dict) else []
    record = run_tf1(
        old, options.steps, options.dtype, options.random, options.seed, options.data, keep
    )
    return check_port(record, new_path, options, program)
