"""Record the old program on ``tensorflow.compat.v1`` in the child: ``tf1_program()`` built in a
fresh graph (``contract``) or a script run as it is written (``script``), then its start, its
outputs, loss and gradients on the first batch, and every step, as a ``Record``:

    python -m backprop_suite.children.migration record OLD.py OUT.npz --steps 10 \
        [--dtype D] [--random MODE]

It runs the program under TensorFlow's v1 behaviour (``disable_v2_behavior``), as TF1 ran it: a
``tf_keras`` ``BasicLSTMCell`` draws its kernel from the graph seed only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from backprop_suite.core.memory import describe_bytes, require_fits
from backprop_suite.migration.programs import call, function, load_module
from backprop_suite.migration.record import Record
from backprop_suite.migration.tf1.contract import build
from backprop_suite.migration.tf1.graph_walk import additive_terms, l2_of
from backprop_suite.migration.tf1.old_program import OldProgram, old_program
from backprop_suite.migration.tf1.program import Program, name_of, read_data, take_batches


def untrained_why(
    before: np.ndarray, after: np.ndarray, excluded: bool, other: str | None = None
) -> str:
    """Why TF1 does not train a trainable variable, as the report says it: ``excluded``, a
    gradient of the loss reaches it but the optimizer's var_list leaves it out; ``other``, the
    train op whose var_list has it."""
    changed = not np.array_equal(before, after)
    if other is not None:
        reach = "a gradient of the loss reaches it" if excluded else "no gradient of the loss does"
        moved = "changes it" if changed else "leaves it as it is here"
        return (
            f"excluded by the optimizer's var_list ({reach}): train op {other!r} trains it on "
            f"its own loss, and the training step {moved}"
        )
    if excluded and changed:
        return (
            "excluded by the optimizer's var_list (a gradient of the loss reaches it), and "
            "another train op that the step runs changes it: a network trained against this "
            "one, as a GAN's"
        )
    if excluded:
        return (
            "excluded by the optimizer's var_list (a gradient of the loss reaches it), and "
            "train_op leaves it as it is: frozen"
        )
    if not changed:
        return "no gradient of the loss reaches it and train_op leaves it as it is"
    return (
        "no gradient of the loss reaches it and train_op changes it: a counter such as "
        "minimize(global_step=...), or a variable trained on another loss"
    )


def trained_by(variable, watch, program: Program) -> str | None:
    """The script's other train op whose var_list has ``variable`` (None for the contract)."""
    if watch is None:
        return None
    mine = {id(v) for v in program.trained}
    for train in watch.train_ops:
        if any(v is variable for v in train.variables) and id(variable) not in mine:
            return train.op.name
    return None


def build_program(
    old: OldProgram,
    dtype: str | None,
    seed: int,
    keep: Iterable[str] = (),
    threads=None,
    turns: list[dict] | None = None,
) -> Program:
    """The program's graph as every run after the record's builds it: ``tf1_program()``
    (``build``), or the script run up to its first training step, with the ``turns`` the
    record found."""
    if old.script:
        from backprop_suite.migration.tf1.script import script_program

        program = script_program(old, seed, keep, threads, turns=turns)[0]
    else:
        program = build(load_module(old.path), old.path, dtype, seed, keep, threads)
    return from_checkpoint(program, old)


def from_checkpoint(program: Program, old: OldProgram) -> Program:
    """``program`` starting every variable that ``old.checkpoint`` holds from it; the trained
    ones must all be there, in their shapes."""
    if old.checkpoint is None:
        return program
    from backprop_suite.migration.tf1.checkpoints import held, read_checkpoint

    values = read_checkpoint(old.checkpoint)
    names = [name_of(v) for v in program.trained]
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(
            f"{old.checkpoint} holds no value for TF1's {missing}: it is another program's "
            f"checkpoint (it holds {held(values)})"
        )
    start = dict(program.start or {})
    for variable in program.variables:
        name = name_of(variable)
        if name not in values:
            continue
        shape, dtype = tuple(variable.shape.as_list()), variable.dtype.base_dtype.name
        if tuple(values[name].shape) != shape or values[name].dtype.name != dtype:
            raise ValueError(
                f"{old.checkpoint}: {name} is {values[name].dtype.name} "
                f"{list(values[name].shape)}, the program's {dtype} {list(shape)}: it is another "
                "program's checkpoint"
            )
        start[name] = values[name]
    program.start = start
    return program


def taken(
    old: OldProgram, steps: int, dtype: str | None, seed: int, data: str | None, keep
) -> tuple[Program, list[dict], object]:
    """The program built, the batches of the ``steps`` checked (``--data``, ``batches()`` or
    what the script's steps read), and what the script did (None for the contract); a script
    that ends sooner has its steps, and their turns, taken again from the first."""
    given = read_data(data, steps) if data else None
    if old.script:
        from backprop_suite.migration.tf1.script import script_program

        program, watch = script_program(old, seed, keep, wanted=0 if given else steps)
        found = given or take_batches(watch.batches, steps, f"{old.path}'s training steps")
        if given is None:
            watch.kinds = [watch.kinds[i % len(watch.kinds)] for i in range(steps)]
        return from_checkpoint(program, old), found, watch
    module = load_module(old.path)
    if given is None:
        source = f"{old.path}'s batches()"
        given = take_batches(call(function(module, "batches", old.path), old.path), steps, source)
    return from_checkpoint(build(module, old.path, dtype, seed, keep), old), given, None


def fed_meta(program: Program, watch, listed: bool = False) -> dict:
    """What a record says of the program's feeds (name: shape as declared, dtype) and, for a
    script, what it printed, its training step and the variables that are neither trained nor
    the optimizer's own (``others``: counters, moving statistics); with ``listed`` (for
    ``--list`` alone: it walks the graph), the tensors nearest the loss."""
    from backprop_suite.migration.tf1.graph_inputs import source

    feeds = program.built["feeds"].items()
    fed = {
        name: {
            "shape": tensor.shape.as_list() if tensor.shape.rank is not None else None,
            "dtype": tensor.dtype.name,
            "source": source(tensor, watch is None or name in watch.fed),
        }
        for name, tensor in feeds
    }
    if watch is None:
        return {"fed": fed}
    optimizers = [t.optimizer for t in watch.train_ops if hasattr(t.optimizer, "variables")]
    with program.graph.as_default():  # an optimizer lists the variables of the default graph
        own = {name_of(v) for optimizer in optimizers for v in optimizer.variables()}
    trained = {name_of(v) for v in program.trained}
    others = [name_of(v) for v in program.variables if name_of(v) not in own | trained]
    found = {
        "fed": fed,
        "printed": watch.printed,
        "train_op": watch.chosen.op.name,
        "loss_name": program.built["loss"].op.name,
        "others": others,
    }
    if listed:
        from backprop_suite.migration.tf1.listing import near_loss

        built = program.built
        found["near_loss"] = near_loss(built["loss"], built["feeds"], program.trained)
    return found


def record_tf1(
    old: OldProgram | str,
    steps: int,
    dtype: str | None = None,
    random: str = "aligned",
    seed: int = 0,
    data: str | None = None,
    keep: Iterable[str] = (),
    listed: bool = False,
) -> Record:
    """Build the old program (``taken``), read its variables at the start, its outputs, loss and
    ``tf.gradients`` on the first batch, then run its training step ``steps`` times, recording
    the loss and the variables after each step."""
    import tensorflow as tf

    from backprop_suite.migration.random_ops import random_mode

    v1 = tf.compat.v1
    old = old if isinstance(old, OldProgram) else old_program(old)
    if old.script and dtype:
        raise ValueError(
            f"--dtype {dtype}: {old.path} is a script, which builds its graph in its own dtype"
        )
    with random_mode(random):
        program, batches, watch = taken(old, steps, dtype, seed, data, keep)
        source = f"--data {data}" if data else f"{old.path}'s batches"
        variables = program.trained + program.state
        per_step = sum(v.shape.num_elements() * v.dtype.size for v in variables)
        require_fits(
            f"steps {steps} (every variable after every step, {describe_bytes(per_step)} a step)",
            steps * per_step,
        )
        kinds = watch.kinds if watch is not None and program.turns else None
        built, feeds = program.built, program.feeds(batches, source, kinds)
        outputs = built.get("outputs")
        terms = additive_terms(built["loss"])
        with program.graph.as_default(), v1.Session(config=program.config) as session:
            program.initialize(session)
            initial = session.run(variables)
            fetched = program.unchanged(
                session,
                {
                    "loss": built["loss"],
                    "grads": program.grads,
                    "outputs": built["loss"] if outputs is None else outputs,
                    "terms": terms,
                },
                feeds[0],
            )
            trajectory = list(program.train(session, feeds, kinds))
    restored = watch.restored if watch is not None else None
    losses, after = [loss for loss, _ in trajectory], [values for _, values in trajectory]
    trained = len(program.trained)
    last = after[-1]
    return Record(
        names=[name_of(v) for v in program.trained],
        initial=initial[:trained],
        batches=[{name: fed[p] for name, p in built["feeds"].items() if p in fed} for fed in feeds],
        loss=np.asarray(fetched["loss"]),
        grads=fetched["grads"],
        losses=np.asarray(losses),
        after=[values[:trained] for values in after],
        outputs=fetched["outputs"] if outputs is not None else None,
        state_names=[name_of(v) for v in program.state],
        state_initial=initial[trained:],
        state_after=[values[trained:] for values in after],
        restored={name: watch.start[name] for name in restored["names"]} if restored else {},
        meta={
            **fed_meta(program, watch, listed),
            "script": old.to_json(),
            "checkpoint": old.checkpoint,
            "program": str(Path(old.path).resolve()),
            "dtype": dtype,
            "tensorflow": tf.__version__,
            "random": random,
            "seed": seed,
            "steps": steps,
            "variables": [name_of(v) for v in program.variables],
            "loss_terms": [
                {"name": t.op.name, "value": float(v), "l2_of": l2_of(t)}
                for t, v in zip(terms, fetched["terms"])
            ],
            "untrained": {
                name_of(v): untrained_why(
                    initial[trained + i],
                    last[trained + i],
                    name_of(v) in program.excluded,
                    trained_by(v, watch, program),
                )
                for i, v in enumerate(program.untrained)
            },
            "turns": [turn.to_json() for turn in watch.turns] if kinds else None,
            "restored": restored,
            "kinds": kinds,
        },
    )
