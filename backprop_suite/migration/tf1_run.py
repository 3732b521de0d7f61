"""Run the old program on ``tensorflow.compat.v1``: ``tf1_program()`` in a fresh graph, or a
script as it is written (``script_run``), and record what it does.

The check runs this module in a process of its own (``run_tf1``), because a TF1 program that uses
``tf.compat.v1.layers`` or ``nn.rnn_cell`` needs legacy Keras (``tf_keras`` with
``TF_USE_LEGACY_KERAS=1``), which switches ``tf.keras`` for the whole process, and its port needs
Keras 3. The child inherits the parent's environment, so thread counts and oneDNN settings match.

    python -m backprop_suite.children.migration record OLD.py OUT.npz --steps 10 \
        [--dtype D] [--random MODE]

It runs the program under TensorFlow's v1 behaviour (``disable_v2_behavior``), as TF1 ran it: a
``tf_keras`` ``BasicLSTMCell`` draws its kernel from the graph seed only then.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from backprop_suite.core import load_npz
from backprop_suite.core.memory import describe_bytes, require_fits
from backprop_suite.core.validation import numeric_array, require_finite
from backprop_suite.migration.old_program import OldProgram, old_program
from backprop_suite.migration.processes import run_job
from backprop_suite.migration.programs import call, function, load_module
from backprop_suite.migration.record import Record

KEYS = ("feeds", "loss", "train_op")


def read_data(path: str | Path, steps: int) -> list[dict[str, np.ndarray]]:
    """``--data FILE.npz``: one array per feed name, stacked over batches on axis 0, checked as
    ``take_batches`` checks them."""
    arrays = load_npz(path, "--data")
    counts = {name: len(value) for name, value in arrays.items() if np.ndim(value) > 0}
    if not arrays or len(set(counts.values())) != 1 or len(counts) != len(arrays):
        raise ValueError(
            f"--data {path}: every array must stack the batches on axis 0, found lengths {counts}"
        )
    count = next(iter(counts.values()))
    batches = [{name: value[i] for name, value in arrays.items()} for i in range(count)]
    return take_batches(batches, steps, f"--data {path}")


def take_batches(batches: Iterable, steps: int, source: str) -> list[dict]:
    """The first ``steps`` batches, starting again from the first when there are fewer; each a
    dict of finite numbers. Non-finite data cannot be compared: a ``ValueError`` names the
    batch, the array and the index."""
    try:
        taken = list(itertools.islice(batches, steps))
    except Exception as error:
        raise ValueError(f"{source} raised {type(error).__name__}: {error}") from None
    if not taken or not all(isinstance(batch, dict) for batch in taken):
        raise ValueError(f"{source} must give at least one batch, each a dict name -> array")
    for step, batch in enumerate(taken):
        for name, value in batch.items():
            what = f"{source}: batch {step}, {name!r}"
            require_finite(what, numeric_array(what, value))
    return list(itertools.islice(itertools.cycle(taken), steps))


def checked_program(built, path: str) -> dict:
    import tensorflow as tf

    if not isinstance(built, dict) or any(key not in built for key in KEYS):
        found = sorted(built) if isinstance(built, dict) else type(built).__name__
        raise ValueError(f"{path}: tf1_program() must return a dict with {KEYS}, got {found}")
    if not isinstance(built["feeds"], dict) or not built["feeds"]:
        raise ValueError(f"{path}: tf1_program()['feeds'] must map names to placeholders")
    for key in ("loss", "outputs"):
        if built.get(key) is not None and not isinstance(built[key], tf.Tensor):
            raise ValueError(f"{path}: tf1_program()['{key}'] must be a tensor")
    config = built.get("session_config")
    if config is not None and not isinstance(config, tf.compat.v1.ConfigProto):
        raise ValueError(f"{path}: tf1_program()['session_config'] must be a tf.ConfigProto")
    return built


def feed(feeds: dict, batch: dict, step: int, source: str) -> dict:
    """The feed dict of ``batch``; a ``ValueError`` naming ``source``, the batch and the feed for
    names or shapes that the program's placeholders do not take. ``name:0`` is ``name``."""
    batch = {
        key.removesuffix(":0") if key not in feeds and key.endswith(":0") else key: value
        for key, value in batch.items()
    }
    if set(batch) != set(feeds):
        raise ValueError(
            f"{source}: batch {step} gives {sorted(batch)}, but the TF1 program's feeds are "
            f"{sorted(feeds)}"
        )
    fed = {}
    for name, value in batch.items():
        array = np.asarray(value, feeds[name].dtype.as_numpy_dtype)
        if not feeds[name].shape.is_compatible_with(array.shape):
            raise ValueError(
                f"{source}: batch {step}, {name!r} has shape {array.shape}, but the feed "
                f"{name!r} ({feeds[name].name}) takes {tuple(feeds[name].shape.as_list())}"
            )
        fed[feeds[name]] = array
    return fed


@dataclass
class Program:
    """``tf1_program()`` built in a graph of its own: its dict, the trainable variables that a
    gradient of the loss reaches (``trained``) with those gradients, the trainable ones it does
    not reach (``untrained``: step counters, which TF1 makes trainable by default), and the other
    variables the port's ``WEIGHT_MAP`` names (``kept``: moving statistics, counters)."""

    graph: object
    built: dict
    trained: list
    grads: list
    untrained: list
    kept: list
    config: object
    variables: list  # every variable of the graph
    start: dict | None = None  # variable name -> value where every run starts it

    def initialize(self, session) -> None:
        """Every variable at its start: the value in ``start``, or its initializer's."""
        import tensorflow as tf

        v1 = tf.compat.v1
        start = self.start or {}
        session.run([v1.local_variables_initializer(), v1.tables_initializer()])
        if any(name_of(v) not in start for v in self.variables):
            session.run(v1.global_variables_initializer())
        for variable in self.variables:
            if name_of(variable) in start:
                variable.load(start[name_of(variable)], session)

    @property
    def state(self) -> list:
        """What is compared but not trained: the untrained variables, then the kept ones."""
        return self.untrained + self.kept

    def feeds(self, batches: list[dict], source: str) -> list[dict]:
        return [feed(self.built["feeds"], b, step, source) for step, b in enumerate(batches)]

    def train(self, session, feeds: list[dict]) -> Iterator[tuple[np.ndarray, list]]:
        """Run ``train_op`` on each feed in turn: the loss before the update (fetched with it)
        and the trained and state variables after it."""
        for step_feed in feeds:
            loss = session.run([self.built["train_op"], self.built["loss"]], step_feed)[1]
            yield loss, session.run(self.trained + self.state)


def build(
    module: ModuleType,
    old_path: str,
    dtype: str | None,
    seed: int,
    keep: Iterable[str] = (),
    threads: int | None = None,
) -> Program:
    """``tf1_program()`` of ``module`` (read from ``old_path``) in a fresh graph with graph seed
    ``seed``; ``threads`` overrides the session's thread counts."""
    import tensorflow as tf

    v1 = tf.compat.v1
    program = function(module, "tf1_program", old_path)
    options = {"dtype": dtype} if dtype else {}
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        built = checked_program(call(program, old_path, **options), old_path)
        variables = v1.trainable_variables()
        if not variables:
            raise ValueError(f"{old_path}: tf1_program() made no trainable variables")
        found = tf.gradients(built["loss"], variables)
        trained = [v for v, g in zip(variables, found) if g is not None]
        if not trained:
            raise ValueError(f"{old_path}: no gradient of tf1_program()'s loss reaches a variable")
        grads = [tf.convert_to_tensor(g) for g in found if g is not None]
        untrained = [v for v, g in zip(variables, found) if g is None]
        keep = set(keep)
        every = v1.global_variables()
        kept = [
            v for v in every if name_of(v) in keep and not any(v is u for u in trained + untrained)
        ]
    config = v1.ConfigProto()
    if built.get("session_config") is not None:
        config.CopyFrom(built["session_config"])
    if threads is not None:
        config.intra_op_parallelism_threads = config.inter_op_parallelism_threads = threads
    return Program(graph, built, trained, grads, untrained, kept, config, every)


def additive_terms(loss) -> list:
    """The addends of a scalar loss built as a sum (``loss += 5e-4 * regularizers``), nested
    sums flattened; [] for a loss that is no sum."""

    def flatten(tensor) -> list:
        if tensor.op.type in ("Add", "AddV2", "AddN") and tensor.shape.rank == 0:
            return [term for part in tensor.op.inputs for term in flatten(part)]
        return [tensor]

    terms = flatten(loss)
    return terms if len(terms) > 1 else []


def l2_of(tensor) -> list[str]:
    """The variables that ``tf.nn.l2_loss`` ops among ``tensor``'s inputs, at any depth, take."""
    seen, todo, found = set(), [tensor.op], []
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        if op.type == "L2Loss":
            found.append(op.inputs[0].op.name.removesuffix("/read"))
        todo.extend(part.op for part in op.inputs)
    return sorted(found)


def name_of(variable) -> str:
    return variable.name.split(":")[0]


def untrained_why(before: np.ndarray, after: np.ndarray) -> str:
    if np.array_equal(before, after):
        return "no gradient of the loss reaches it and train_op leaves it as it is"
    return (
        "no gradient of the loss reaches it and train_op changes it: a counter such as "
        "minimize(global_step=...), or a variable trained on another loss"
    )


def build_program(
    old: OldProgram, dtype: str | None, seed: int, keep: Iterable[str] = (), threads=None
) -> Program:
    """The program's graph as every run after the record's builds it: ``tf1_program()``
    (``build``), or the script run up to its first training step."""
    if old.script:
        from backprop_suite.migration.script_run import script_program

        program = script_program(old, seed, keep, threads)[0]
    else:
        program = build(load_module(old.path), old.path, dtype, seed, keep, threads)
    return from_checkpoint(program, old)


def from_checkpoint(program: Program, old: OldProgram) -> Program:
    """``program`` starting every variable that ``old.checkpoint`` holds from it; the trained
    ones must all be there, in their shapes."""
    if old.checkpoint is None:
        return program
    from backprop_suite.migration.checkpoints import held, read_checkpoint

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
    the script's feed_dicts), and what the script did (None for the contract)."""
    given = read_data(data, steps) if data else None
    if old.script:
        from backprop_suite.migration.script_run import script_program

        program, watch = script_program(old, seed, keep, wanted=0 if given else steps)
        found = given or take_batches(watch.batches, steps, f"{old.path}'s feed_dicts")
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
    own = {name_of(v) for optimizer in optimizers for v in optimizer.variables()}
    trained = {name_of(v) for v in program.trained}
    others = [name_of(v) for v in program.variables if name_of(v) not in own | trained]
    found = {
        "fed": fed,
        "printed": watch.printed,
        "train_op": program.built["train_op"].name,
        "loss_name": program.built["loss"].op.name,
        "others": others,
    }
    if listed:
        from backprop_suite.migration.listing import near_loss

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
        built, feeds = program.built, program.feeds(batches, source)
        outputs = built.get("outputs")
        terms = additive_terms(built["loss"])
        with program.graph.as_default(), v1.Session(config=program.config) as session:
            program.initialize(session)
            initial = session.run(variables)
            fetched = session.run(
                {
                    "loss": built["loss"],
                    "grads": program.grads,
                    "outputs": built["loss"] if outputs is None else outputs,
                    "terms": terms,
                },
                feeds[0],
            )
            trajectory = list(program.train(session, feeds))
    losses, after = [loss for loss, _ in trajectory], [values for _, values in trajectory]
    trained = len(program.trained)
    last = after[-1]
    return Record(
        names=[name_of(v) for v in program.trained],
        initial=initial[:trained],
        batches=[{name: fed[p] for name, p in built["feeds"].items()} for fed in feeds],
        loss=np.asarray(fetched["loss"]),
        grads=fetched["grads"],
        losses=np.asarray(losses),
        after=[values[:trained] for values in after],
        outputs=fetched["outputs"] if outputs is not None else None,
        state_names=[name_of(v) for v in program.state],
        state_initial=initial[trained:],
        state_after=[values[trained:] for values in after],
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
                name_of(v): untrained_why(initial[trained + i], last[trained + i])
                for i, v in enumerate(program.untrained)
            },
        },
    )


def child_environment() -> dict[str, str]:
    """This process's environment for a child that runs the TF1 program: legacy Keras where it
    is installed, TensorFlow's C++ log lines off unless asked for."""
    env = dict(os.environ)
    if importlib.util.find_spec("tf_keras") is not None:
        env["TF_USE_LEGACY_KERAS"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_tf1(
    old: OldProgram | str,
    steps: int,
    dtype: str | None = None,
    random: str = "aligned",
    seed: int = 0,
    data: str | None = None,
    keep: Iterable[str] = (),
    listed: bool = False,
) -> Record:
    """``record_tf1`` in a child process (a warm one: ``processes``). Bad input there (status 2)
    is a ``ValueError`` here with the child's ``error:`` line; any other failure a
    ``RuntimeError`` with its stderr. A path is a script or the contract as it reads
    (``old_program``)."""
    old = old if isinstance(old, OldProgram) else old_program(old)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "tf1.npz"
        command = ["record", str(old.path), str(out), *old.arguments()]
        command += ["--steps", str(steps), "--random", random, "--seed", str(seed)]
        command += ["--dtype", dtype] if dtype else []
        command += ["--data", str(data)] if data else []
        command += [f"--keep={name}" for name in keep]
        command += ["--listed"] if listed else []
        done = run_job(command, child_environment())
        if done.returncode == 2:
            raise ValueError(done.error())
        if done.returncode != 0:
            raise RuntimeError(f"the TF1 program failed:\n{done.stderr.strip()}")
        return Record.load(out)
