"""What the old program did, kept as arrays: the reference every stage of the check compares to.

It is written by the process that ran the TF1 program and read by the one that runs the port, as
one ``.npz`` file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Record:
    """The TF1 program's trained variables (names without ``:0``, in creation order), the
    batches it was fed, its outputs, loss and gradients at the initial weights on the first batch,
    and then, step by step, its loss and every variable after the update. ``state_*``: the
    variables no gradient reaches and those the port's ``WEIGHT_MAP`` names as state, the same
    way; ``meta["untrained"]``: why each trainable one is not trained; ``restored``: where a
    script restored its own checkpoint before its first step, the value at that step of every
    variable it restored (``meta["restored"]`` names the checkpoint)."""

    names: list[str]
    initial: list[np.ndarray]
    batches: list[dict[str, np.ndarray]]
    loss: np.ndarray
    grads: list[np.ndarray]
    losses: np.ndarray
    after: list[list[np.ndarray]]
    outputs: np.ndarray | None = None
    state_names: list[str] = field(default_factory=list)
    state_initial: list[np.ndarray] = field(default_factory=list)
    state_after: list[list[np.ndarray]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    restored: dict[str, np.ndarray] = field(default_factory=dict)  # a script's own restore
    envelope: object = field(default=None, repr=False, compare=False)  # measured once, not saved

    @property
    def dtype(self) -> str:
        """The dtype of the old program's loss, which sets the default tolerances."""
        return str(self.loss.dtype)

    def save(self, path: str | Path) -> None:
        arrays = {"loss": self.loss, "losses": self.losses}
        for i, (value, grad) in enumerate(zip(self.initial, self.grads)):
            arrays[f"initial/{i}"] = value
            arrays[f"grad/{i}"] = grad
        for step, (batch, values) in enumerate(zip(self.batches, self.after)):
            arrays.update({f"batch/{step}/{name}": v for name, v in batch.items()})
            arrays.update({f"after/{step}/{i}": v for i, v in enumerate(values)})
        for i, value in enumerate(self.state_initial):
            arrays[f"state/{i}"] = value
        for step, values in enumerate(self.state_after):
            arrays.update({f"state_after/{step}/{i}": v for i, v in enumerate(values)})
        if self.outputs is not None:
            arrays["outputs"] = self.outputs
        arrays.update({f"restored/{name}": value for name, value in self.restored.items()})
        feeds = [list(batch) for batch in self.batches]
        meta = dict(self.meta, names=self.names, state_names=self.state_names, feeds=feeds)
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Record:
        with np.load(path) as stored:
            meta = json.loads(str(stored["meta"]))
            names, feeds = meta.pop("names"), meta.pop("feeds")
            state_names = meta.pop("state_names")
            steps = len(stored["losses"])
            count, kept = range(len(names)), range(len(state_names))
            return cls(
                names=names,
                initial=[stored[f"initial/{i}"] for i in count],
                batches=[{n: stored[f"batch/{s}/{n}"] for n in feeds[s]} for s in range(steps)],
                loss=stored["loss"],
                grads=[stored[f"grad/{i}"] for i in count],
                losses=stored["losses"],
                after=[[stored[f"after/{s}/{i}"] for i in count] for s in range(steps)],
                outputs=stored["outputs"] if "outputs" in stored else None,
                state_names=state_names,
                state_initial=[stored[f"state/{i}"] for i in kept],
                state_after=[[stored[f"state_after/{s}/{i}"] for i in kept] for s in range(steps)],
                meta=meta,
                restored={
                    key.removeprefix("restored/"): stored[key]
                    for key in stored.files
                    if key.startswith("restored/")
                },
            )
