"""Run a TF1 script as it is written and take its training steps from it.

A script builds its graph at module level or in ``main()``, parses its flags (``tf.app.run``,
argparse), trains in a ``with tf.Session() as sess:`` loop that feeds ``feed_dict`` and goes on
to evaluate and print. The child that records TF1 runs it as ``__main__``, with its own folder
first on the path, ``sys.argv`` set to the script and its arguments, and three things watched:

- each ``tf.compat.v1.train`` optimizer's ``apply_gradients`` (``minimize`` calls it): the op it
  makes is a train op; its loss is the one given to that optimizer's ``compute_gradients``
  (``minimize`` calls it), or to the ``tf.gradients`` whose gradients it applies;
- each ``Session.run``: one whose fetches reach the chosen train op is a training step; its
  ``feed_dict`` is that step's batch, keyed by the fed tensors' names in the graph
  (``Placeholder``, ``Placeholder_1``, or the ``name=`` given), and the graph's variables as
  they are just before the first one are where every run of the check starts;
- ``import tensorflow`` in the script and its own modules, which gives ``tensorflow.compat.v1``,
  the API that TF 1.x's ``tensorflow`` was.

After the steps asked for the script is stopped (``Stop``, which ``except Exception`` in the
script does not catch), so a long script costs only the steps checked.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import runpy
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backprop_suite.migration.old_program import OldProgram
from backprop_suite.migration.programs import INSTALLED, own_imports

SUITE = Path(__file__).resolve().parents[1]


class Stop(BaseException):
    """Ends the script: after the steps asked for, or with ``error``, a problem that the script's
    own ``except Exception`` must not swallow."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class TrainOp:
    """An op an optimizer's ``apply_gradients`` made, the loss it minimizes (None: not found)
    and the variables it updates."""

    op: object
    loss: object
    variables: list
    optimizer: object = None

    def describe(self) -> str:
        loss = "an unknown loss" if self.loss is None else f"loss {self.loss.op.name!r}"
        return f"{self.op.name!r} ({type(self.optimizer).__name__}, {loss})"


@dataclass
class Watch:
    """What the script did, as far as the check needs it; ``wanted`` training steps to take
    (0: stop at the first, before it runs)."""

    script: OldProgram
    wanted: int
    train_ops: list[TrainOp] = field(default_factory=list)
    losses: dict = field(default_factory=dict)  # optimizer id -> its compute_gradients' loss
    gradient_calls: list = field(default_factory=list)  # (loss, variables) of tf.gradients
    reaches: dict = field(default_factory=dict)  # fetched op names -> train ops reached
    chosen: TrainOp | None = None
    step_ops: list = field(default_factory=list)
    feeds: dict = field(default_factory=dict)
    fed: set = field(default_factory=set)  # the names of feeds that feed_dict gave
    batches: list = field(default_factory=list)
    start: dict | None = None
    variables: list = field(default_factory=list)
    graph: object = None
    config: object = None
    printed: str = ""
    running: bool = False  # inside a training step's Session.run

    @property
    def name(self) -> str:
        return Path(self.script.path).name

    def loss_of(self, optimizer, variables: list):
        """The loss whose gradients ``optimizer`` applies to ``variables``."""
        if id(optimizer) in self.losses:
            return self.losses[id(optimizer)]
        for loss, xs in reversed(self.gradient_calls):
            if all(any(v is x for x in xs) for v in variables):
                return loss
        return None

    def reached(self, session, fetches) -> tuple[list, list]:
        """The train ops that ``fetches`` reach through inputs and control inputs, and the
        fetched ops that reach one."""
        import tensorflow as tf

        ops = []
        for fetch in tf.nest.flatten(fetches):
            try:
                element = session.graph.as_graph_element(fetch)
            except Exception:  # not this graph's, or no element: Session.run itself will say
                return [], []
            ops.append(element if isinstance(element, tf.Operation) else element.op)
        mine = [t for t in self.train_ops if t.op.graph is session.graph]
        if not mine:
            return [], []
        key = tuple(op.name for op in ops)
        if key not in self.reaches:
            self.reaches[key] = [(op, upstream(op, {t.op.name for t in mine})) for op in ops]
        found = [t for t in mine if any(t.op.name in names for _, names in self.reaches[key])]
        return found, [op for op, names in self.reaches[key] if names]

    def choose(self, found: list[TrainOp], ops: list) -> TrainOp | None:
        """The chosen train op if this run trains it, None if it trains another; a ``Stop`` with
        the train ops listed where more than one could be meant."""
        wanted = self.script.train_op
        mine = [t for t in self.train_ops if t.op.graph is found[0].op.graph]
        if wanted is None and len(mine) > 1:
            listed = ", ".join(t.describe() for t in mine)
            raise Stop(
                f"{self.name} makes {len(mine)} train ops: {listed}; choose one with --train-op"
            )
        names = {op.name for op in ops}
        picked = [t for t in found if wanted is None or wanted in names | {t.op.name}]
        if len(picked) > 1:
            raise Stop(
                f"{self.name}: one Session.run trains {[t.op.name for t in picked]} together"
            )
        return picked[0] if picked else None

    def take(self, session, chosen: TrainOp, ops: list, feed_dict, run) -> list:
        """Keep the step's fed batch and return the tensors it reads inside the graph, whose
        values complete the batch once the step has run (``completed``); before the first
        step, keep the graph's variables and the session."""
        import tensorflow as tf

        from backprop_suite.migration.tf1.graph_inputs import feed_name, in_graph_inputs
        from backprop_suite.migration.tf1_run import name_of

        line = script_line(self.script.path)
        batch, feeds = {}, {}
        for key, value in (feed_dict or {}).items():
            tensor = session.graph.as_graph_element(key)
            feeds[feed_name(tensor)] = tensor
            batch[feed_name(tensor)] = np.array(value, tensor.dtype.as_numpy_dtype)
        read = in_graph_inputs(
            ops, {t.name for t in feeds.values()}, [chosen.loss] if chosen.loss is not None else []
        )
        feeds.update({feed_name(t): t for t in read})
        if not feeds:
            raise Stop(
                f"{self.name}, line {line}: the training step reads no input: it feeds nothing, "
                "and no tf.data iterator, queue or random op is upstream of it (data held as "
                "constants in the graph cannot be given to a port)"
            )
        if self.chosen is None:
            if chosen.loss is None:
                raise Stop(
                    f"{self.name}, line {line}: cannot tell which loss train op "
                    f"{chosen.op.name!r} minimizes: give it to the optimizer's minimize or "
                    "compute_gradients, or to tf.gradients"
                )
            self.chosen, self.step_ops, self.feeds = chosen, ops, feeds
            self.fed = set(batch)
            self.graph, self.config = session.graph, session._config
            with session.graph.as_default():
                self.variables = tf.compat.v1.global_variables()
            values = run(session, self.variables)
            self.start = {name_of(v): value for v, value in zip(self.variables, values)}
        elif set(feeds) != set(self.feeds):
            raise Stop(
                f"{self.name}, line {line}: training step {len(self.batches) + 1} reads "
                f"{sorted(feeds)}, the first read {sorted(self.feeds)}"
            )
        self.batches.append(batch)
        return read

    def completed(self, read: list, values: list) -> None:
        """The values of the step's in-graph input, added to its batch."""
        from backprop_suite.migration.tf1.graph_inputs import feed_name

        for tensor, value in zip(read, values):
            self.batches[-1][feed_name(tensor)] = np.asarray(value)


def upstream(op, targets: set[str]) -> set[str]:
    """The names among ``targets`` of the ops that ``op`` depends on, itself included."""
    seen, todo, found = set(), [op], set()
    while todo:
        current = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if current.name in targets:
            found.add(current.name)
        todo.extend(t.op for t in current.inputs)
        todo.extend(current.control_inputs)
    return found


def script_line(path: str) -> int | None:
    """The line of ``path`` that the running code was called from, innermost first."""
    where = Path(path).resolve()
    for frame in reversed(traceback.extract_stack()):
        if Path(frame.filename).resolve() == where:
            return frame.lineno
    return None


def raised_at(error: BaseException, path: str) -> str:
    """``Type: message (line N of NAME)``, N the innermost line of the script in the traceback."""
    where = Path(path).resolve()
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve() == where] or frames[-1:]
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    message = lines[0] if lines else ""
    line = f" (line {ours[-1].lineno} of {where.name})" if ours else ""
    return f"{type(error).__name__}: {message}{line}"


@contextlib.contextmanager
def patched(owner, name: str, make) -> Iterator[None]:
    """``owner.name`` replaced by ``make(original)`` while inside."""
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def own_file(module_globals, folder: Path) -> bool:
    file = (module_globals or {}).get("__file__")
    if not file:
        return False
    where = Path(file).resolve()
    mine = where.is_relative_to(folder) and not where.is_relative_to(SUITE)
    return mine and not any(where.is_relative_to(i) for i in INSTALLED)


@contextlib.contextmanager
def watched(watch: Watch, folder: Path) -> Iterator[None]:
    """The optimizers, ``tf.gradients``, ``Session.run`` and ``import tensorflow`` watched."""
    import tensorflow as tf
    from tensorflow.python.client.session import BaseSession
    from tensorflow.python.training.optimizer import Optimizer

    v1 = tf.compat.v1

    def compute_gradients(original):
        def watched_compute(self, loss, *args, **kwargs):
            watch.losses[id(self)] = loss
            return original(self, loss, *args, **kwargs)

        return watched_compute

    def apply_gradients(original):
        def watched_apply(self, grads_and_vars, *args, **kwargs):
            pairs = list(grads_and_vars)
            op = original(self, pairs, *args, **kwargs)
            variables = [v for g, v in pairs if g is not None]
            loss = watch.loss_of(self, variables)
            watch.train_ops.append(TrainOp(op, loss, variables, optimizer=self))
            return op

        return watched_apply

    def gradients(original):
        def watched_gradients(ys, xs, *args, **kwargs):
            found = original(ys, xs, *args, **kwargs)
            listed = ys if isinstance(ys, list | tuple) else [ys]
            if len(listed) == 1:
                watch.gradient_calls.append((listed[0], list(tf.nest.flatten(xs))))
            return found

        return watched_gradients

    def session_run(original):
        def watched_run(self, fetches, feed_dict=None, options=None, run_metadata=None):
            found, ops = watch.reached(self, fetches)
            chosen = watch.choose(found, ops) if found else None
            if chosen is None:
                return original(self, fetches, feed_dict, options, run_metadata)
            read = watch.take(self, chosen, ops, feed_dict, original)
            if watch.wanted == 0:
                raise Stop()
            watch.running = True
            result, values = original(self, (fetches, read), feed_dict, options, run_metadata)
            watch.running = False
            watch.completed(read, values)
            if len(watch.batches) >= watch.wanted:
                raise Stop()
            return result

        return watched_run

    def imports(original):
        def tensorflow_as_v1(name, globals=None, locals=None, fromlist=(), level=0):
            module = original(name, globals, locals, fromlist, level)
            if name == "tensorflow" and level == 0 and own_file(globals, folder):
                return v1
            return module

        return tensorflow_as_v1

    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(Optimizer, "compute_gradients", compute_gradients))
        stack.enter_context(patched(Optimizer, "apply_gradients", apply_gradients))
        stack.enter_context(patched(v1, "gradients", gradients))
        stack.enter_context(patched(BaseSession, "run", session_run))
        stack.enter_context(patched(builtins, "__import__", imports))
        yield


@contextlib.contextmanager
def own_flags() -> Iterator[None]:
    """The absl flags a script defines (``tf.app.flags``) removed after it, so that it can run
    again in the same process."""
    from absl import flags

    before = set(flags.FLAGS)
    try:
        yield
    finally:
        for name in set(flags.FLAGS) - before:
            delattr(flags.FLAGS, name)
        flags.FLAGS.unparse_flags()


def run_script(script: OldProgram, wanted: int, seed: int) -> Watch:
    """Run ``script`` until ``wanted`` training steps are taken (0: until the first, which does
    not run) or it ends; its output is kept in ``printed``. A script that raises, exits with an
    error or takes no training step is a ``ValueError`` that says so."""
    import tensorflow as tf

    v1 = tf.compat.v1
    path = Path(script.path).resolve()
    watch = Watch(script, wanted)
    printed = io.StringIO()
    argv = sys.argv
    sys.argv = [str(path), *script.argv]
    v1.reset_default_graph()
    v1.set_random_seed(seed)
    status = 0
    try:
        with own_flags(), own_imports(path.parent), watched(watch, path.parent):
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                runpy.run_path(str(path), run_name="__main__")
    except Stop as stop:
        if stop.error:
            raise ValueError(stop.error) from None
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except Exception as error:
        when = "before its first training step"
        if watch.batches:
            place = "at" if watch.running else "after"
            when = f"{place} training step {len(watch.batches)}"
        raise ValueError(f"{script.path} raised {when}: {raised_at(error, script.path)}") from None
    finally:
        sys.argv = argv
        watch.printed = printed.getvalue()
    if not watch.batches:
        why = f"exited with status {status}" if status else "ended"
        ops = ", ".join(t.describe() for t in watch.train_ops)
        seen = f"; its train ops: {ops}" if ops else "; it made no optimizer's train op"
        if script.train_op:
            seen += f", and none of them is --train-op {script.train_op!r}"
        raise ValueError(
            f"{script.path} {why} without a training step: no Session.run fetched an op that an "
            f"optimizer's minimize or apply_gradients made{seen}"
        )
    return watch


def tensor_named(graph, name: str, path: str):
    """The tensor ``name`` (an op's name for its first output, or ``op:index``) of ``graph``."""
    import tensorflow as tf

    try:
        found = graph.as_graph_element(name if ":" in name else f"{name}:0")
    except (KeyError, ValueError):
        found = None
    if not isinstance(found, tf.Tensor):
        raise ValueError(f"--outputs {name}: {Path(path).name}'s graph has no tensor of that name")
    return found


def script_program(
    script: OldProgram, seed: int, keep=(), threads: int | None = None, wanted: int = 0
):
    """The script run until ``wanted`` training steps (``run_script``), as a ``Program`` of the
    graph it trained, which starts from the variables' values before its first step, and the
    batches of the steps it took."""
    import tensorflow as tf

    from backprop_suite.migration.tf1_run import Program, name_of

    v1 = tf.compat.v1
    watch = run_script(script, wanted, seed)
    graph, chosen = watch.graph, watch.chosen
    with graph.as_default():
        if graph.finalized:  # a MonitoredSession finalizes it; the check adds its gradients
            graph._unsafe_unfinalize()
        trainable = v1.trainable_variables()
        optimized = [v for v in trainable if any(v is u for u in chosen.variables)]
        optimized += [v for v in chosen.variables if not any(v is u for u in optimized)]
        found = tf.gradients(chosen.loss, optimized)
        trained = [v for v, g in zip(optimized, found) if g is not None]
        grads = [tf.convert_to_tensor(g) for g in found if g is not None]
        untrained = [v for v in trainable if not any(v is u for u in trained)]
        keep = set(keep)
        kept = [
            v
            for v in watch.variables
            if name_of(v) in keep and not any(v is u for u in trained + untrained)
        ]
        ops = watch.step_ops
        step = ops[0] if len(ops) == 1 else tf.group(*ops, name="script_training_step")
        outputs = tensor_named(graph, script.outputs, script.path) if script.outputs else None
    config = v1.ConfigProto()
    if watch.config is not None:
        config.CopyFrom(watch.config)
    if threads is not None:
        config.intra_op_parallelism_threads = config.inter_op_parallelism_threads = threads
    built = {"feeds": watch.feeds, "loss": chosen.loss, "train_op": step, "outputs": outputs}
    program = Program(
        graph, built, trained, grads, untrained, kept, config, watch.variables, watch.start
    )
    return program, watch
