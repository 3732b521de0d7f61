"""The TF1 side of a check: a file written to the contract (``tf1_program()`` and ``batches()``)
or a script checked as it is written (``script_run``), and how a child process is told which."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from backprop_suite.migration.programs import program_file


@dataclass(frozen=True)
class OldProgram:
    """``path`` and, for a script, the ``argv`` it runs with, the train op chosen by name
    (``train_op``) and the tensor the forward stage compares (``outputs``, by op name);
    ``checkpoint``: the prefix of a ``tf.train.Saver`` checkpoint that every variable it holds
    starts from (None: the initializers, or a script's own values at its first step)."""

    path: str
    script: bool = False
    argv: tuple[str, ...] = ()
    train_op: str | None = None
    outputs: str | None = None
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.script:
            given = [
                flag
                for flag, value in (
                    ("arguments after --", self.argv),
                    ("--train-op", self.train_op),
                    ("--outputs", self.outputs),
                )
                if value
            ]
            if given:
                raise ValueError(
                    f"{' and '.join(given)} apply to a script, and {self.path} defines "
                    "tf1_program(), whose dict names its train_op and outputs (--script checks "
                    "it as a script)"
                )

    def arguments(self) -> list[str]:
        """The child's command-line options that say this (``from_arguments`` reads them)."""
        found = [f"--from-checkpoint={self.checkpoint}"] if self.checkpoint else []
        if not self.script:
            return found
        found += ["--script", f"--script-argv={json.dumps(list(self.argv))}"]
        found += [f"--train-op={self.train_op}"] if self.train_op else []
        return found + ([f"--outputs={self.outputs}"] if self.outputs else [])

    def to_json(self) -> dict | None:
        if not self.script:
            return None
        return {"argv": list(self.argv), "train_op": self.train_op, "outputs": self.outputs}


def defines_tf1_program(path: str | Path) -> bool:
    """Whether the file has a top-level ``def tf1_program``: the contract, not a script."""
    tree = ast.parse(program_file(path).read_bytes(), str(path))
    return any(
        isinstance(node, ast.FunctionDef) and node.name == "tf1_program" for node in tree.body
    )


def old_program(
    path: str | Path,
    script: bool | None = None,
    argv: tuple[str, ...] | list[str] = (),
    train_op: str | None = None,
    outputs: str | None = None,
    checkpoint: str | None = None,
) -> OldProgram:
    """``path`` as the check runs it: a script when it defines no ``tf1_program`` or when
    ``script`` is true, the contract otherwise."""
    if script is None:
        script = not defines_tf1_program(path)
    else:
        program_file(path)
    return OldProgram(str(path), bool(script), tuple(argv), train_op, outputs, checkpoint)


def from_arguments(path: str, args) -> OldProgram:
    """The child's reading of ``OldProgram.arguments``."""
    checkpoint = args.from_checkpoint
    if not args.script:
        return OldProgram(path, checkpoint=checkpoint)
    argv = tuple(json.loads(args.script_argv))
    return OldProgram(path, True, argv, args.train_op, args.outputs, checkpoint)


def from_meta(meta: dict) -> OldProgram:
    """The program a record was made from (its ``meta``: ``program`` and ``script``)."""
    script, checkpoint = meta.get("script"), meta.get("checkpoint")
    if script is None:
        return OldProgram(meta["program"], checkpoint=checkpoint)
    argv = tuple(script["argv"])
    return OldProgram(
        meta["program"], True, argv, script["train_op"], script["outputs"], checkpoint
    )
