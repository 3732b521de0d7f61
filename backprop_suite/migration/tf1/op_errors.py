"""What a TensorFlow error in a TF1 session run says, on one line: the op that failed, its type,
the inputs it read, the program line that made it and the message, without the "Graph execution
error:" frame that TensorFlow puts around it."""

from __future__ import annotations

import re
from pathlib import Path

from backprop_suite.migration.tf1.graph_inputs import kind

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_NOISE = re.compile(r"^(Graph execution error:|Detected at node|Node: |\s*\[\[|\s*File )")


def made_at(message: str, program: str | None) -> str | None:
    """``line N of NAME``: the innermost frame of ``program`` (else the last frame) in the
    traceback that TensorFlow quotes of where the op was made."""
    frames = [m for m in map(_FRAME.match, message.splitlines()) if m]
    if program is not None:
        where = Path(program).resolve()
        frames = [m for m in frames if Path(m["file"]).resolve() == where] or frames
    if not frames:
        return None
    return f"line {frames[-1]['line']} of {Path(frames[-1]['file']).name}"


def cause(error, program: str | None = None) -> str:
    """``error`` (a ``tf.errors.OpError``) as its cause lines joined on one line."""
    text = [line.strip() for line in error.message.splitlines()]
    said = " ".join(line for line in text if line and not _NOISE.match(line))
    op = error.op
    if op is None:
        return f"{type(error).__name__}: {said}"
    reads = ", ".join(repr(t.name) for t in op.inputs)
    where = made_at(error.message, program)
    parts = (
        [op.type]
        + ([f"reading {reads}"] if reads else [])
        + ([f"made at {where}"] if where else [])
    )
    found = f"{type(error).__name__} at op {op.name!r} ({'; '.join(parts)}): {said}"
    if kind(op) in ("iterator", "queue"):
        found = found.rstrip(".") + (
            f"; the check runs each step again in a fresh session and feeds what the step read, "
            f"so {op.name!r} must be among the step's inputs: a script gets it by itself, a "
            "tf1_program() gives it in its 'feeds'"
        )
    return found
