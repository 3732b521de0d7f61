"""Walks over a TF1 graph: what an op depends on, the terms of a summed loss, what ``l2_loss``
takes."""

from __future__ import annotations

# ops that pass their first input's values on unchanged but for the shape or the dtype
PASS_THROUGH = {"Reshape", "Identity", "Cast", "ExpandDims", "Squeeze", "StopGradient"}


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
