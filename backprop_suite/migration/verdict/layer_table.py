"""The layer localisation's report: a row per layer of the port, with how far the port is from
TF1 at its input and output, forward and backward, and the layer named (``verdict.layers``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from backprop_suite.verify.rounding import MARGIN


@dataclass
class LayerRow:
    """One block: its name and the layers without variables it holds, the TF1 tensors at its
    input and output, and how far the port is from TF1 there (in envelopes, or in tolerances
    where no envelope is measured; None: not compared), forward and backward; ``isolated_*``:
    the same for the block given TF1's input (``--isolate``)."""

    name: str
    layers: list[str]
    tf1_input: str | None
    tf1_output: str | None
    input_forward: float | None = None
    forward: float | None = None
    output_backward: float | None = None
    backward: float | None = None
    isolated_forward: float | None = None
    isolated_backward: float | None = None
    verdict: str = "agrees"
    hint: str | None = None
    note: str = ""  # why its output was paired as it was, where that is worth saying


@dataclass
class Localisation:
    """The blocks' rows, the one named (None: no layer's), from the plain comparison and, with
    ``--isolate``, from the blocks given TF1's input, and the summary line."""

    stage: str
    step: int  # 1-based: the step whose batch and starting weights were used
    unit: str  # "envelopes" or "tolerances"
    isolated: bool
    rows: list[LayerRow]
    first: str | None
    summary: str
    missing: dict[str, str] = field(default_factory=dict)  # envelope sources not measured
    first_alone: str | None = None  # the block named given TF1's inputs (``--isolate``)

    def table(self) -> str:
        names = [row.name for row in self.rows]
        outputs = [row.tf1_output or "-" for row in self.rows]
        left = max(len(n) for n in ["layer", *names])
        middle = max(len(n) for n in ["TF1 output", *outputs])
        columns = ["forward", "backward"] + (["alone fwd", "alone bwd"] if self.isolated else [])
        head = f"{'layer':<{left}}  {'TF1 output':<{middle}}"
        head += "".join(f" {c:>9}" for c in columns) + "  verdict"
        lines = [f"layers at step {self.step}, in {self.unit} (margin {self.limit:g}):", head]
        for row, name, output in zip(self.rows, names, outputs):
            found = [row.forward, row.backward]
            found += [row.isolated_forward, row.isolated_backward] if self.isolated else []
            line = f"{name:<{left}}  {output:<{middle}}" + "".join(f" {shown(v):>9}" for v in found)
            lines.append(f"{line}  {row.verdict}")
            if row.hint:
                lines.append(f"  hint: {row.hint}")
        lines.append(f"layers: {self.summary}")
        return "\n".join(lines)

    @property
    def limit(self) -> float:
        return MARGIN if self.unit == "envelopes" else 1.0

    def to_json(self) -> dict:
        return asdict(self)


def shown(value: float | None) -> str:
    if value is None:
        return "-"
    if np.isinf(value):
        return "inf"
    if value < 1000:
        return f"{value:.3g}"
    return f"{value:,.0f}" if value < 100_000 else f"{value:.2e}"
