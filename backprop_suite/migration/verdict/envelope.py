"""How far TF1 moves from itself under what any correct port is entitled to, element by element:
the runs are made in the TF1 child (``tf1.reruns``), and ``measure_envelope`` gathers them."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backprop_suite.migration.processes import Job
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.old_program import OldProgram
from backprop_suite.migration.tf1.reruns import (
    NOISE,
    NUDGED,
    ONEDNN,
    PLAIN,
    THREADS,
    load_spreads,
    widest,
)
from backprop_suite.verify.rounding import NUDGES


@dataclass
class Envelope:
    """Per source, how far TF1 moved from its record, element by element (``rerun``'s keys),
    and the sources it could not measure. The envelope of a quantity is the largest over the
    sources."""

    sources: dict[str, dict[str, np.ndarray]]
    missing: dict[str, str]  # source -> why it could not be measured
    first_batch_only: bool = False

    def __post_init__(self) -> None:
        self.total = widest(list(self.sources.values()))

    def loss(self, step: int) -> np.ndarray:
        return self.total["loss"][step]

    def after(self, step: int, index: int) -> np.ndarray:
        """Trained variable ``index`` after ``step`` (state variables follow the trained)."""
        return self.total[f"after/{step}/{index}"]

    def gradient(self, index: int) -> np.ndarray:
        return self.total[f"grad/{index}"]

    def outputs(self) -> np.ndarray | None:
        """The outputs on the first batch (None: the program gives none)."""
        return self.total.get("outputs")

    def largest(self, source: str, step: int | None) -> float:
        """How far ``source`` moved TF1 at ``step`` (None: on the first batch): its largest
        difference of any quantity."""
        found = self.sources[source]
        if step is None:
            return float(max(value.max(initial=0) for value in found.values()))
        keys = [key for key in found if key.startswith(f"after/{step}/")]
        return float(max([found["loss"][step]] + [found[key].max(initial=0) for key in keys]))


def onednn_enabled() -> bool:
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def run_sources(base: list[str], folder: Path) -> dict[str, tuple[Path, Job]]:
    """The child command ``base`` started once per source of the envelope, together (warm
    processes: ``processes``): with ``NUDGES`` nudged runs under this process's settings, with
    oneDNN switched, and on one thread; each writes to its own file in ``folder``."""
    from backprop_suite.migration.processes import child_environment

    onednn = onednn_enabled()
    switched = ONEDNN.format("off" if onednn else "on")
    switched_env = {"TF_ENABLE_ONEDNN_OPTS": "0" if onednn else "1"}
    jobs = {  # name: (arguments, environment changed, lane)
        NUDGED: (base + ["--nudges", str(NUDGES)], {}, ""),
        switched: (base + ["--nudges", "0"], switched_env, "oneDNN switched"),
        THREADS: (base + ["--nudges", "0", "--threads", "1"], {}, "one thread"),
    }
    running = {}
    for name, (command, changed, lane) in jobs.items():
        out = folder / f"{base[0]}{len(running)}.npz"
        env = dict(child_environment(), **changed)
        running[name] = (out, Job(command + [str(out)], env, lane))
    return running


def measure_envelope(
    old: OldProgram,
    record: Record,
    dtype: str | None,
    random: str,
    seed: int,
    first_batch_only: bool = False,
) -> Envelope:
    """Every source of the envelope, in three child processes run together (warm ones:
    ``processes``): the nudged and noisy runs under this process's settings, one run with oneDNN
    switched, one on one thread; of the first batch alone with ``first_batch_only``."""
    with tempfile.TemporaryDirectory() as folder:
        recorded = Path(folder) / "record.npz"
        record.save(recorded)
        base = ["spread", str(old.path), str(recorded), *old.arguments()]
        base += ["--random", random, "--seed", str(seed)]
        base += ["--first-batch"] if first_batch_only else []
        base += ["--dtype", dtype] if dtype else []
        running = run_sources(base, Path(folder))
        sources: dict[str, dict[str, np.ndarray]] = {}
        missing: dict[str, str] = {}
        for name, (out, job) in running.items():
            done = job.wait()
            if done.returncode != 0 and name == NUDGED:  # the record's own settings
                raise ValueError(f"the envelope's run ({name}) failed: {done.error(2000)}")
            if done.returncode != 0:  # the program cannot run so: that source is left out
                said = done.last_line() or "it wrote nothing"
                missing[name] = f"the program cannot run so: {said}"
                continue
            for source, found in load_spreads(out).items():
                sources[name if source == PLAIN else source] = found
    if NOISE not in sources and not first_batch_only:
        missing[NOISE] = "the train_op is no tf.compat.v1.train optimizer's"
    return Envelope(sources, missing, first_batch_only)
