"""The input a training step reads from inside its graph: a ``tf.data`` iterator's next element,
a queue's dequeue (``QueueRunner``, ``tf.train.batch``, ``shuffle_batch``, ``numpy_input_fn``) or
a random op that draws the data.

Each step's values of these tensors are its batch, as a ``feed_dict``'s are: the script mode
fetches them together with the train op, and every later run of the step feeds them back, so the
replay needs no iterator, queue or random state (any tensor of a graph can be fed in TF1; the ops
that made it then do not run)."""

from __future__ import annotations

import re

from backprop_suite.migration.tf1.graph_walk import PASS_THROUGH

CHECKS_OWN = "migration_check"  # the name scope of ops the check adds, which are no input

ITERATORS = {"IteratorGetNext", "IteratorGetNextSync", "OptionalGetValue"}
QUEUES = {
    "QueueDequeue",
    "QueueDequeueV2",
    "QueueDequeueMany",
    "QueueDequeueManyV2",
    "QueueDequeueUpTo",
    "QueueDequeueUpToV2",
}
RANDOM = {
    "RandomUniform",
    "RandomUniformInt",
    "RandomStandardNormal",
    "TruncatedNormal",
    "ParameterizedTruncatedNormal",
    "RandomShuffle",
    "RandomGamma",
    "RandomPoisson",
    "RandomPoissonV2",
    "Multinomial",
}


def kind(op) -> str | None:
    """What ``op`` is as a source of input: ``"iterator"``, ``"queue"``, ``"random"`` or None."""
    if op.type in ITERATORS:
        return "iterator"
    if op.type in QUEUES:
        return "queue"
    if op.type in RANDOM:
        return "random"
    return None


def in_graph_inputs(ops: list, fed: set[str], forward: list) -> tuple[list, set[str]]:
    """The tensors a step of ``ops`` reads from inside its graph, and the names of the fed
    tensors (``fed``: the ``feed_dict``'s) it reads.

    The tensors are the outputs of the input ops (``sources``), and the data computed from
    random draws that the forward pass of ``forward`` (the loss) reads (``derived``): a port
    takes its inputs and targets from these where the graph draws them (``y = f(x)`` of a
    random ``x``). Data computed from an iterator's or a queue's outputs are not offered: the
    port computes them as TF1 does, so that a mistake there (label smoothing left out) still
    shows. A fed tensor that only feeds the input ops (a feedable iterator's string handle) is
    not read: the replay does not run them."""
    found, used = sources(ops, fed)
    known = {t.name for t in found}
    computed = [t for t in derived(forward, fed) if t.name not in known]
    drawn = [t for t in found if kind(t.op) == "random"]
    return [t for t in found if kind(t.op) != "random"] + computed + drawn, used


def usable(op) -> bool:
    """An input op whose outputs can be fetched and fed back: not inside a loop (an RNN's
    dropout), not one the check itself added, and not a dropout's mask (``--random``'s to
    align or leave)."""
    if kind(op) is None or op._control_flow_context is not None or checks_own(op):
        return False
    return not (kind(op) == "random" and re.search(r"(^|/)dropout[^/]*/", op.name))


def sources(ops: list, fed: set[str]) -> tuple[list, set[str]]:
    """The outputs of the input ops that ``ops`` read through inputs and control inputs, and
    the fed tensors they read; the walk stops at fed tensors and at each input op."""
    graph = ops[0].graph
    seen, todo, found, used = set(), list(reversed(ops)), [], set()
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        if usable(op):
            found += [t for t in op.outputs if graph.is_feedable(t) and t.name not in fed]
            continue
        used |= {t.name for t in op.inputs if t.name in fed}
        todo.extend(t.op for t in reversed(op.inputs) if t.name not in fed)
        todo.extend(reversed(op.control_inputs))
    return found, used


def derived(forward: list, fed: set[str]) -> list:
    """The tensors that ``forward`` reads which are data (computed by stateless ops from input
    ops and constants alone, from at least one input op) where the op reading them is not."""
    data = data_of(forward)
    found, seen, todo = [], set(), [t.op for t in forward]
    if all(data.get(t.op.name) == (True, True) for t in forward):
        return []
    while todo:
        op = todo.pop()
        if op.name in seen or data.get(op.name, (False, False))[0]:
            continue
        seen.add(op.name)
        for tensor in op.inputs:
            if tensor.name in fed:
                continue
            if data.get(tensor.op.name) == (True, True):
                tensor = before_plumbing(tensor, data)
                if feedable(tensor) and all(t.name != tensor.name for t in found):
                    found.append(tensor)
            else:
                todo.append(tensor.op)
    return found


def before_plumbing(tensor, data: dict):
    """The data tensor that ``tensor`` reshapes, casts or passes on, at any depth: the one a
    port recognises (``one_hot`` where a loss reshapes it, an iterator's output it casts)."""
    while tensor.op.type in PASS_THROUGH and data.get(tensor.op.inputs[0].op.name) == (True, True):
        tensor = tensor.op.inputs[0]
    return tensor


def feedable(tensor) -> bool:
    return tensor.graph.is_feedable(tensor) and tensor.op._control_flow_context is None


def data_of(forward: list) -> dict[str, tuple[bool, bool]]:
    """For each op that ``forward`` depends on: (its outputs are data, a random draw of the
    data is among what they are computed from)."""
    found: dict[str, tuple[bool, bool]] = {}
    visiting: set[str] = set()
    todo = [(t.op, False) for t in forward]
    while todo:
        op, inputs_done = todo.pop()
        if op.name in found or (not inputs_done and op.name in visiting):
            continue
        visiting.add(op.name)
        if usable(op):
            found[op.name] = (True, kind(op) == "random")
            continue
        if not op.inputs:
            found[op.name] = (op.type in ("Const", "Placeholder", "PlaceholderWithDefault"), False)
            continue
        if not inputs_done:
            todo.append((op, True))
            todo.extend((t.op, False) for t in op.inputs if t.op.name not in found)
            continue
        parts = [found.get(t.op.name, (False, False)) for t in op.inputs]  # a loop's back edge
        stateless = not op.op_def.is_stateful
        is_data = stateless and all(part[0] for part in parts)
        found[op.name] = (is_data, is_data and any(part[1] for part in parts))
    return found


def checks_own(op) -> bool:
    return re.search(rf"(^|/){CHECKS_OWN}(_\d+)?/", op.name) is not None


def feed_name(tensor) -> str:
    """The name a batch gives ``tensor``: its op's name for a first output (``Placeholder``,
    ``IteratorGetNext``), else ``op:index`` (``IteratorGetNext:1``)."""
    return tensor.op.name if tensor.value_index == 0 else tensor.name


def source(tensor, fed: bool) -> str:
    """How a listing describes where the step's value of ``tensor`` comes from (``fed``: the
    step's ``feed_dict`` gave it)."""
    found = kind(tensor.op)
    if fed:
        return "feed_dict"
    if found is None:
        return "computed inside the graph from its input"
    return f"read inside the graph: {found} ({tensor.op.type})"
