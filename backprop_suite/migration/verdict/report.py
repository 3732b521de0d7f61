"""The check's report: one result per stage, in the order of the guide, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from backprop_suite.verify.rounding import MARGIN

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
    layers: object = None  # verdict.layers.Localisation, or why there is none (text)

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
            restored = self.settings.get("restored") or {}
            where = self.settings.get("checkpoint") or (
                f"the script's own restore of {restored.get('checkpoint')}"
            )
            if carried["carried"]:
                lines.append(
                    f"from {where}: the optimizer's state carried into the port's "
                    f"({len(carried['carried'])} entries)"
                )
            lines += [f"from {where}: not carried: {why}" for why in carried["not_carried"]]
        restored = self.settings.get("restored")
        if restored and self.settings.get("checkpoint"):
            lines.append(
                f"note: --from-checkpoint {self.settings['checkpoint']} replaced the start that "
                f"the script restored itself from {restored['checkpoint']}"
            )
        if self.settings.get("tf1_diverges_at_step"):
            lines.append(
                f"note: TF1's loss is not finite from step {self.settings['tf1_diverges_at_step']}:"
                " the run diverges (NaN or infinity), so later steps compare nothing useful"
            )
        if isinstance(self.layers, str):
            lines.append(f"layers: {self.layers}")
        elif self.layers is not None:
            lines.append(self.layers.table())
        if self.agrees:
            lines.append(f"agree: every stage within tolerance over {self.settings['steps']} steps")
        else:
            line = f"disagree: stopped at the {self.failed.stage} stage"
            first = getattr(self.layers, "first", None)
            lines.append(line + (f", in layer {first}" if first else ""))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "agrees": self.agrees,
            "settings": self.settings,
            "stages": [asdict(s) for s in self.stages],
            "envelope": self.envelope,
            "layers": self.layers if not hasattr(self.layers, "to_json") else self.layers.to_json(),
        }
