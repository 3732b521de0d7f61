"""Run a TF1 script as it is written and take its training steps from it.

A script builds its graph at module level or in ``main()``, parses its flags (``tf.app.run``,
argparse), trains in a ``with tf.Session() as sess:`` loop that feeds ``feed_dict`` and goes on
to evaluate and print. The child that records TF1 runs it as ``__main__``, with its own folder
first on the path, ``sys.argv`` set to the script and its arguments, and three things watched:

- each ``tf.compat.v1.train`` optimizer's ``apply_gradients`` (``train_ops``);
- each ``Session.run``: one whose fetches reach the chosen train op is a training step; its
  ``feed_dict`` and the input it reads inside the graph (``graph_inputs``) are that step's
  batch, keyed by the tensors' names in the graph (``Placeholder``, ``IteratorGetNext:1``, or
  the ``name=`` given), and the graph's variables as they are just before the first one are
  where every run of the check starts;
- ``import tensorflow`` in the script and its own modules, which gives ``tensorflow.compat.v1``,
  the API that TF 1.x's ``tensorflow`` was;
- ``tf.train.Saver``: a restore before the first step (the script's own ``saver.restore``, a
  ``Supervisor``'s or ``MonitoredTrainingSession``'s) is noted with what it restored, and
  ``save`` writes into the check's own folder (a restore of what it saved reads it there), so
  that the check leaves the script's checkpoints as they were and every run of it restores the
  same one.

After the steps asked for the script is stopped (``Stop``, which ``except Exception`` in the
script does not catch), so a long script costs only the steps checked.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import runpy
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backprop_suite.migration.programs import INSTALLED, own_imports
from backprop_suite.migration.tf1.graph_inputs import kind
from backprop_suite.migration.tf1.graph_walk import upstream
from backprop_suite.migration.tf1.old_program import OldProgram
from backprop_suite.migration.tf1.train_ops import TrainOp, TrainOps, split_variables

SUITE = Path(__file__).resolve().parents[1]


class Stop(BaseException):
    """Ends the script: after the steps asked for, or with ``error``, a problem that the script's
    own ``except Exception`` must not swallow."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Turn:
    """The steps of one train op: the op and its loss, the ops the script fetched to run it,
    and the names of what its steps read (fed or from inside the graph)."""

    train: TrainOp
    ops: list
    feeds: dict

    def to_json(self) -> dict:
        return {
            "train_op": self.train.op.name,
            "loss": self.train.loss.name,
            "step": [op.name for op in self.ops],
            "feeds": list(self.feeds),
        }


@dataclass
class Watch:
    """What the script did, as far as the check needs it; ``wanted`` training steps to take
    (0: stop at the first, before it runs). Each training step takes one of the ``turns`` (a
    GAN's discriminator step, then its generator step); ``kinds`` says which, step by step."""

    script: OldProgram
    wanted: int
    made: TrainOps = field(default_factory=TrainOps)
    reaches: dict = field(default_factory=dict)  # fetched op names -> train ops reached
    reads: dict = field(default_factory=dict)  # a step's ops and feeds -> what it reads
    turns: list[Turn] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    fed: set = field(default_factory=set)  # the names of feeds that feed_dict gave
    batches: list = field(default_factory=list)
    start: dict | None = None
    variables: list = field(default_factory=list)
    graph: object = None
    config: object = None
    printed: str = ""
    restored: dict | None = None  # {"checkpoint", "names"}: the last restore before the first step
    raised_at: int | None = None  # the training step whose Session.run raised last

    @property
    def name(self) -> str:
        return Path(self.script.path).name

    @property
    def train_ops(self) -> list[TrainOp]:
        return self.made.found

    @property
    def chosen(self) -> TrainOp | None:
        return self.turns[0].train if self.turns else None

    @property
    def feeds(self) -> dict:
        """Every tensor any step reads, by name."""
        return {name: t for turn in self.turns for name, t in turn.feeds.items()}

    def reached(self, session, fetches) -> tuple[list, dict]:
        """The train ops that ``fetches`` reach through inputs and control inputs, and the
        fetched ops that reach one, each with the names of those it reaches."""
        import tensorflow as tf

        ops = []
        for fetch in fetched(fetches):
            try:
                element = session.graph.as_graph_element(fetch)
            except Exception:  # not this graph's, or no element: Session.run itself will say
                return [], {}
            ops.append(element if isinstance(element, tf.Operation) else element.op)
        mine = self.made.of_graph(session.graph)
        if not mine:
            return [], {}
        key = tuple(op.name for op in ops)
        if key not in self.reaches:
            self.reaches[key] = [(op, upstream(op, {t.op.name for t in mine})) for op in ops]
        found = [t for t in mine if any(t.op.name in names for _, names in self.reaches[key])]
        return found, {op: names for op, names in self.reaches[key] if names}

    def choose(self, found: list[TrainOp], ops: dict) -> TrainOp | None:
        """The train op this run is a step of: ``--train-op`` if it trains it (the others it
        trains run as the script runs them), None if it trains others only; without
        ``--train-op``, the one it trains, and a ``Stop`` where it trains several at once."""
        wanted = self.script.train_op
        if wanted is not None:
            picked = [
                t
                for t in found
                if t.op.name == wanted
                or any(op.name == wanted and t.op.name in names for op, names in ops.items())
            ]
            if len(picked) > 1:
                raise Stop(
                    f"{self.name}: --train-op {wanted} trains {[t.op.name for t in picked]} "
                    "together; name one of them"
                )
            return picked[0] if picked else None
        if len(found) > 1:
            listed = ", ".join(t.describe() for t in found)
            raise Stop(
                f"{self.name}: one Session.run trains {len(found)} train ops together: {listed}; "
                "choose one with --train-op (the others then run as the script runs them)"
            )
        return found[0]

    def take(self, session, chosen: TrainOp, ops: dict, feed_dict, run) -> list:
        """Keep the step's fed batch and its turn, and return the tensors it reads inside the
        graph, whose values complete the batch once the step has run (``completed``); before
        the first step, keep the graph's variables and the session."""
        import tensorflow as tf

        from backprop_suite.migration.tf1.graph_inputs import feed_name, in_graph_inputs
        from backprop_suite.migration.tf1.program import name_of

        line = script_line(self.script.path)
        if chosen.loss is None:
            raise Stop(
                f"{self.name}, line {line}: cannot tell which loss train op "
                f"{chosen.op.name!r} minimizes: give it to the optimizer's minimize or "
                "compute_gradients, or to tf.gradients"
            )
        batch, feeds = {}, {}
        for key, value in (feed_dict or {}).items():
            tensor = session.graph.as_graph_element(key)
            feeds[feed_name(tensor)] = tensor
            batch[feed_name(tensor)] = np.array(value, tensor.dtype.as_numpy_dtype)
        fed = frozenset(t.name for t in feeds.values())
        key = (tuple(op.name for op in ops), fed, chosen.op.name)
        if key not in self.reads:  # the same walk at every step of a turn: walked once
            self.reads[key] = in_graph_inputs(list(ops), set(fed), [chosen.loss])
        read, used = self.reads[key]
        feeds = {name: t for name, t in feeds.items() if t.name in used}
        batch = {name: value for name, value in batch.items() if name in feeds}
        feeds.update({feed_name(t): t for t in read})
        if not feeds:
            raise Stop(
                f"{self.name}, line {line}: the training step reads no input: it feeds nothing, "
                "and no tf.data iterator, queue or random op is upstream of it (data held as "
                "constants in the graph cannot be given to a port)"
            )
        if not self.turns:
            self.graph, self.config = session.graph, session._config
            with session.graph.as_default():
                self.variables = tf.compat.v1.global_variables()
            values = run(session, self.variables)
            self.start = {name_of(v): value for v, value in zip(self.variables, values)}
        kind = next((i for i, t in enumerate(self.turns) if t.train is chosen), None)
        if kind is None:
            kind = len(self.turns)
            self.turns.append(Turn(chosen, list(ops), feeds))
            self.fed |= set(batch)
        elif set(feeds) != set(self.turns[kind].feeds):
            raise Stop(
                f"{self.name}, line {line}: training step {len(self.batches) + 1} reads "
                f"{sorted(feeds)}, the first step of {chosen.op.name!r} read "
                f"{sorted(self.turns[kind].feeds)}"
            )
        self.kinds.append(kind)
        self.batches.append(batch)
        return read

    def forget(self, turns: int) -> None:
        """The step just taken raised: its batch and, if it began them, its turn go, and the
        step is kept as the one that raised (a script may catch it and go on)."""
        self.batches.pop()
        self.kinds.pop()
        del self.turns[turns:]
        self.raised_at = len(self.batches) + 1

    def completed(self, read: list, values: list) -> None:
        """The values of the step's in-graph input, added to its batch."""
        from backprop_suite.migration.tf1.graph_inputs import feed_name

        self.raised_at = None
        for tensor, value in zip(read, values):
            self.batches[-1][feed_name(tensor)] = np.asarray(value)


def fetched(fetches) -> list:
    """The graph elements of a ``Session.run``'s fetches: a list, tuple, namedtuple or dict (a
    ``MonitoredSession`` keys one by its hooks) of them, at any depth."""
    if isinstance(fetches, dict):
        return [e for value in fetches.values() for e in fetched(value)]
    if isinstance(fetches, list | tuple):
        return [e for value in fetches for e in fetched(value)]
    return [fetches]


def script_line(path: str) -> int | None:
    """The line of ``path`` that the running code was called from, innermost first."""
    where = Path(path).resolve()
    for frame in reversed(traceback.extract_stack()):
        if Path(frame.filename).resolve() == where:
            return frame.lineno
    return None


def raised_at(error: BaseException, path: str) -> str:
    """``Type: message (line N of NAME)``, N the innermost line of the script in the traceback;
    a TensorFlow op's error with its cause lines (``op_errors``)."""
    where = Path(path).resolve()
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve() == where] or frames[-1:]
    line = f" (line {ours[-1].lineno} of {where.name})" if ours else ""
    from tensorflow.errors import OpError

    if isinstance(error, OpError):  # its first line is "Graph execution error:"
        from backprop_suite.migration.tf1.op_errors import cause

        return f"{cause(error, path)}{line}"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    message = lines[0] if lines else ""
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


def own_file(module_globals) -> bool:
    """Whether the module of ``module_globals`` is the user's: a file that is neither this
    suite's nor installed (the standard library, site-packages). The script's package may
    live outside its folder (a repository's root on ``PYTHONPATH``, ``official/utils``)."""
    file = (module_globals or {}).get("__file__")
    if not file:
        return False
    where = Path(file).resolve()
    return not where.is_relative_to(SUITE) and not any(where.is_relative_to(i) for i in INSTALLED)


@contextlib.contextmanager
def watched(watch: Watch) -> Iterator[None]:
    """The optimizers, ``tf.gradients``, ``Session.run``, ``Saver`` and ``import tensorflow``
    watched."""
    import tensorflow as tf
    from tensorflow.python.client.session import BaseSession
    from tensorflow.python.training.saver import Saver

    v1 = tf.compat.v1

    def session_run(original):
        def watched_run(self, fetches, feed_dict=None, options=None, run_metadata=None):
            found, ops = watch.reached(self, fetches)
            chosen = watch.choose(found, ops) if found else None
            if chosen is None:
                return original(self, fetches, feed_dict, options, run_metadata)
            if watch.graph is not None and self.graph is not watch.graph:
                raise Stop()  # trains a graph built anew (an Estimator's next train()): the end
            turns = len(watch.turns)
            read = watch.take(self, chosen, ops, feed_dict, original)
            if watch.wanted == 0:
                raise Stop()
            try:
                result, values = original(self, (fetches, read), feed_dict, options, run_metadata)
            except BaseException:  # the input's end (OutOfRangeError), which a script may catch
                watch.forget(turns)
                raise
            watch.completed(read, values)
            if len(watch.batches) >= watch.wanted:
                raise Stop()
            return result

        return watched_run

    saved: dict[str, str] = {}  # the path a save returned -> where it wrote
    scratch = None  # the check's own folder for the script's saves

    def restore(original):
        def watched_restore(saver, sess, save_path, *args, **kwargs):
            where = saved.get(save_path, save_path)
            found = original(saver, sess, where, *args, **kwargs)
            if not watch.turns and save_path is not None:
                held = {name for name, _ in tf.train.list_variables(where)}
                with sess.graph.as_default():
                    names = [v.op.name for v in v1.global_variables() if v.op.name in held]
                watch.restored = {"checkpoint": str(save_path), "names": names}
            return found

        return watched_restore

    def save(original):
        def elsewhere(saver, sess, save_path, global_step=None, *args, **kwargs):
            folder = Path(scratch) / str(len(saved))
            folder.mkdir()
            target = str(folder / Path(save_path).name)
            written = original(saver, sess, target, global_step, *args, **kwargs)
            if written is None:  # TF's Saver returns None where it wrote nothing
                return None
            asked = str(save_path) + written[len(target) :]  # with the step, where given
            saved[asked] = written
            return asked

        return elsewhere

    def imports(original):
        def tensorflow_as_v1(name, globals=None, locals=None, fromlist=(), level=0):
            module = original(name, globals, locals, fromlist, level)
            if name == "tensorflow" and level == 0 and own_file(globals):
                return v1
            return module

        return tensorflow_as_v1

    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="migration-check-"))
        stack.enter_context(watch.made.watching())
        stack.enter_context(patched(Saver, "restore", restore))
        stack.enter_context(patched(Saver, "save", save))
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
        with own_flags(), own_imports(path.parent), watched(watch):
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                runpy.run_path(str(path), run_name="__main__")
    except Stop as stop:
        if stop.error:
            raise ValueError(stop.error) from None
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except Exception as error:
        when = "before its first training step"
        if watch.raised_at is not None:
            when = f"at training step {watch.raised_at}"
        elif watch.batches:
            when = f"after training step {len(watch.batches)}"
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
    script: OldProgram,
    seed: int,
    keep=(),
    threads: int | None = None,
    wanted: int = 0,
    turns: list[dict] | None = None,
):
    """The script run until ``wanted`` training steps (``run_script``), as a ``Program`` of the
    graph it trained, which starts from the variables' values before its first step, and the
    batches of the steps it took. ``turns``: those a record found (``Turn.to_json``), where
    this run stops before it could see them all."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.program import Program, name_of

    v1 = tf.compat.v1
    watch = run_script(script, wanted, seed)
    graph = watch.graph
    with graph.as_default():
        if graph.finalized:  # a MonitoredSession finalizes it; the check adds its gradients
            graph._unsafe_unfinalize()
        if turns and len(turns) > len(watch.turns):
            watch.turns = [turn_named(graph, t, watch.train_ops) for t in turns]
        trainable = v1.trainable_variables()
        first = watch.turns[0].train
        trained, grads, untrained, excluded = split_variables(
            first.loss, first.variables, trainable
        )
        for turn in watch.turns[1:]:
            more = split_variables(turn.train.loss, turn.train.variables, trainable)[0]
            trained += [v for v in more if not any(v is u for u in trained)]
        if len(watch.turns) > 1:
            found = tf.gradients(first.loss, trained)
            grads = [
                tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                for v, g in zip(trained, found)
            ]
            untrained = [v for v in trainable if not any(v is u for u in trained)]
            every = {name_of(v) for turn in watch.turns for v in turn.train.variables}
            excluded = [name for name in excluded if name not in every]
        keep = set(keep)
        kept = [
            v
            for v in watch.variables
            if name_of(v) in keep and not any(v is u for u in trained + untrained)
        ]
        steps = [
            turn.ops[0] if len(turn.ops) == 1 else tf.group(*turn.ops, name="script_training_step")
            for turn in watch.turns
        ]
        outputs = tensor_named(graph, script.outputs, script.path) if script.outputs else None
    config = v1.ConfigProto()
    if watch.config is not None:
        config.CopyFrom(watch.config)
    if threads is not None:
        config.intra_op_parallelism_threads = config.inter_op_parallelism_threads = threads
    if any(kind(t.op) in ("iterator", "queue") for t in watch.feeds.values()):
        fed_back(config)
    built = {"feeds": watch.feeds, "loss": first.loss, "train_op": steps[0], "outputs": outputs}
    program = Program(
        graph,
        built,
        trained,
        grads,
        untrained,
        kept,
        config,
        watch.variables,
        watch.start,
        excluded=excluded,
    )
    if len(watch.turns) > 1:
        program.turns = [
            {"train_op": step, "loss": turn.train.loss, "feeds": list(turn.feeds)}
            for step, turn in zip(steps, watch.turns)
        ]
    return program, watch


REPLAY_WAIT_MS = 120_000  # the longest a replayed step may wait on a queue or an iterator


def fed_back(config) -> None:
    """``config`` for a replay that feeds an iterator's or a queue's outputs: Grappler's
    constant folding off (it folds the shape of a fed dequeue into a constant that keeps a
    control edge to the dequeue, which then runs on an empty queue or an iterator nobody
    initialized), and a blocking op that waits longer than ``REPLAY_WAIT_MS`` an error, not a
    hang."""
    from tensorflow.core.protobuf import rewriter_config_pb2

    config.graph_options.rewrite_options.constant_folding = rewriter_config_pb2.RewriterConfig.OFF
    config.operation_timeout_in_ms = REPLAY_WAIT_MS


def turn_named(graph, found: dict, train_ops: list[TrainOp]) -> Turn:
    """A ``Turn`` from the names a record gives it, in ``graph`` built again."""
    train = next(t for t in train_ops if t.op.name == found["train_op"])
    feeds = {
        name: graph.as_graph_element(name if ":" in name else f"{name}:0")
        for name in found["feeds"]
    }
    return Turn(train, [graph.get_operation_by_name(name) for name in found["step"]], feeds)
