"""The six stages of ``docs/migration_guide.md`` section 3, run on any TF1 program and its port
(``Checker``).

weights -> forward pass -> loss -> gradients -> one step -> many steps: each compares the port
with what the TF1 program did (``Record``), and the check stops at the first stage that disagrees,
because every later stage only amplifies an earlier difference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from backprop_suite.migration.options import Options
from backprop_suite.migration.port.port import Port, PortSetupError
from backprop_suite.migration.port.weights import Link
from backprop_suite.migration.programs import message_of
from backprop_suite.migration.record import Record
from backprop_suite.migration.verdict import hints
from backprop_suite.migration.verdict.differences import Outside, at, in_envelopes, worst
from backprop_suite.migration.verdict.envelope import Envelope
from backprop_suite.migration.verdict.report import StageResult
from backprop_suite.verify.rounding import MARGIN
from backprop_suite.verify.tolerances import Difference, Tolerance, difference


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
        except PortSetupError:
            raise
        except Exception as error:
            shapes = ""
            if batch is not None:
                given = ", ".join(f"{k} {list(np.shape(v))}" for k, v in batch.items())
                shapes = f", given {given}"
            raise ValueError(
                f"{self.port.path}: the port raised at the {stage} stage{shapes}: "
                f"{type(error).__name__}: {message_of(error)}"
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

    def load(self, trained: list[np.ndarray], state: list[np.ndarray]) -> None:
        """The port's trained variables, and the state ``WEIGHT_MAP`` names, at TF1's values
        ``trained`` and ``state`` (in TF1's order and layout)."""
        self.port.assign(self.carried(trained))
        self.port.assign_state(
            [link.port for link in self.state], [link.carry(state[link.tf1]) for link in self.state]
        )

    def weights(self) -> StageResult:
        carried = self.carried(self.record.initial)
        for link, value, variable in zip(self.links, carried, self.port.variables):
            if np.dtype(getattr(variable.dtype, "name", variable.dtype)) != value.dtype:
                result = StageResult("weights", False, float("inf"), self.name(link))
                result.tolerance = "bit for bit asked"
                result.hint = hints.dtype_mismatch(self.name(link), value.dtype, variable.dtype)
                return result
        with self.guarded("weights"):
            self.load(self.record.initial, self.record.state_initial)
            self.start = self.port.values()
        if self.after_weights is not None:
            self.optimizer_state = self.after_weights()
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
        kinds = self.record.meta.get("kinds") or [0] * self.steps
        for step, batch in enumerate(self.record.batches):
            with self.guarded("one step" if step == 0 else "many steps", batch):
                self.before_step = self.port.values()
                loss = np.asarray(self.port.turn_loss_of(kinds[step])(batch))
                self.port.train_step_of(kinds[step])(batch)
            found = self.compare_step(step, loss)
            if found.outside is None and not found.strict and self.own_envelope() is not None:
                found = self.compare_step(step, loss)
            steps.append(found)
            if not found.strict and not found.within_envelope:
                break
        self.last_step, self.steps_compared = steps[-1], len(steps)
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
