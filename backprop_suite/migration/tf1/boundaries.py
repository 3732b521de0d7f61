"""Where a port's layers begin and end in a TF1 graph: the tensor between the variables of one
layer and those of the next, found from the graph alone.

A layer's variables *join* the data at the ops that take both a value computed from them and one
computed from the model's input (a kernel's ``MatMul``, a bias's ``Add``; a recurrent kernel joins
at every time step). The tensor between layer k and layer k + 1 is one that every path from the
input to layer k + 1's joins passes through (a dominator of those paths), computed from layer k's
variables and not from layer k + 1's. Such tensors form a chain (a conv's sum, its ReLU, the
pooling, the flattening reshape); the boundary is the furthest down the chain whose size is that
of the port's tensor at the same place, so that the ops without variables after a layer (pooling,
activations, dropout, reshapes) belong to it, as they do in the port."""

from __future__ import annotations

from collections.abc import Iterable

from backprop_suite.migration.shape_ops import SHAPE_OPS

BACK_EDGE = (
    "NextIteration"  # a while loop's step back to its start, which the path counts leave out
)


def ancestors(tensors: Iterable) -> set[str]:
    """The names of the ops that ``tensors`` are computed from, their own included."""
    seen: set[str] = set()
    todo = [t.op for t in tensors]
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        todo.extend(t.op for t in op.inputs)
    return seen


def downstream(tensors: Iterable, within: set[str]) -> set[str]:
    """The names of the tensors computed from ``tensors`` (themselves included) by ops in
    ``within``, round while loops too (a loop's body reaches its exit only through its step
    back)."""
    seen: set[str] = set()
    todo = list(tensors)
    while todo:
        tensor = todo.pop()
        if tensor.name in seen:
            continue
        seen.add(tensor.name)
        for consumer in tensor.consumers():
            if consumer.name in within:
                todo.extend(consumer.outputs)
    return seen


def joins(layer: set[str], data: set[str], within: set[str], graph) -> list:
    """The ops in ``within`` that take an input of ``layer`` (tensors computed from its
    variables) and one of ``data`` that is not: where the layer's variables meet the data (a
    kernel's product, each step of a recurrent one)."""
    found = []
    for op in graph.get_operations():
        if op.name not in within:
            continue
        names = [t.name for t in op.inputs]
        if any(n in layer for n in names) and any(n in data and n not in layer for n in names):
            found.append(op)
    return found


def dominators(sources: list, sinks: list, region: set[str]) -> list:
    """The tensors of ``region`` that every path from ``sources`` into the ops ``sinks`` passes
    through, from the furthest upstream to the furthest down: those whose count of paths from
    the sources times their count of paths to the sinks is the count of every path."""
    sink_names = {op.name for op in sinks}
    order: list = []  # tensors in topological order, sources first
    seen: set[str] = set()
    for source in sources:
        stack = [(source, False)]
        while stack:
            tensor, done = stack.pop()
            if done:
                order.append(tensor)
                continue
            if tensor.name in seen:
                continue
            seen.add(tensor.name)
            stack.append((tensor, True))
            for consumer in tensor.consumers():
                if consumer.name in sink_names or consumer.type == BACK_EDGE:
                    continue
                stack.extend((out, False) for out in consumer.outputs if out.name in region)
    order.reverse()
    source_names = {t.name for t in sources}
    into: dict[str, int] = {}
    for tensor in order:
        count = 1 if tensor.name in source_names else 0
        count += sum(into.get(t.name, 0) for t in tensor.op.inputs if t.name in region)
        into[tensor.name] = count
    out: dict[str, int] = {}
    for tensor in reversed(order):
        count = 0
        for consumer in tensor.consumers():
            if consumer.name in sink_names:
                count += 1
            elif consumer.type != BACK_EDGE:
                count += sum(out.get(t.name, 0) for t in consumer.outputs if t.name in region)
        out[tensor.name] = count
    total = sum(out.get(t.name, 0) for t in sources)
    if total == 0:
        return []
    return [t for t in order if into[t.name] * out[t.name] == total]


def boundary_candidates(
    graph, inputs: list, layers: list[list], ends: list, named: dict | None = None
) -> tuple[list[list], list[list]]:
    """For each layer, the tensors that may be its input (the previous layer's output), furthest
    down first ([] where there is none: the layer joins data that bypasses the one before).
    ``inputs``: the model's input tensors; ``layers``: each layer's TF1 variables, in the
    port's order; ``ends``: the tensors the forward pass ends in (the loss, then the outputs);
    ``named``: layer index -> its output tensor, where the user paired a layer without
    variables with one (its input is then found before that tensor). Second, for each layer,
    the ops where its input enters it."""
    named = named or {}
    within = ancestors(ends)
    data = downstream(inputs, within)
    reached = [
        downstream([t for v in variables for t in v.op.outputs], within) for variables in layers
    ]
    met = [joins(following, data, within, graph) if following else [] for following in reached]
    found, entered = [], []
    for k in range(len(layers)):
        entries = []
        if layers[k]:
            following = reached[k]
            # not where the data meets what later layers or the outputs computed: the targets
            after = [t for ops in met[k + 1 :] for op in ops for t in op.outputs] + ends[1:]
            beyond = downstream(after, within)
            entries = [op for op in met[k] if not any(t.name in beyond for t in op.inputs)]
        elif k in named:
            following = downstream(named[k].op.outputs, within)
            entries = [named[k].op]
        entered.append(entries)
        if not entries:
            found.append([])
            continue
        region = {name for name in data if name not in following}
        chain = dominators(inputs, entries, region)
        own = reached[k - 1] if k > 0 and layers[k - 1] else data
        found.append([t for t in reversed(chain) if t.name in own])
    return found, entered


def bypasses(tensor, entries: list, loss, within: set[str]) -> bool:
    """Whether ``tensor`` reaches ``loss`` other than through the ops ``entries``: a skip
    connection around the layer those ops begin, or an input that is also the targets. The
    loss's gradient there then holds more than that layer gives back. ``within``: the ops the
    loss is computed from (``ancestors``)."""
    stop = {op.name for op in entries}
    seen: set[str] = set()
    todo = [tensor]
    while todo:
        current = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if current.name == loss.name:
            return True
        for consumer in current.consumers():
            if consumer.name in within and consumer.name not in stop:
                if consumer.type not in SHAPE_OPS:
                    todo.extend(consumer.outputs)
    return False
