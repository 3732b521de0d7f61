"""What ``--list`` says of a TF1 program beyond its names: the tensors nearest its loss that a
port's outputs may be (``--outputs NAME``)."""

from __future__ import annotations

from backprop_suite.migration.tf1.graph_walk import PASS_THROUGH, upstream

PLUMBING = PASS_THROUGH | {"ZerosLike"}
# ops that end a layer: what a port's outputs usually are
LAYER_ENDS = {"BiasAdd", "Add", "AddV2", "MatMul", "BatchMatMulV2", "Softmax", "Sigmoid", "Tanh"}
LAYER_ENDS |= {"Relu", "Conv2D", "Elu", "Selu"}


def near_loss(loss, feeds: dict, variables: list, count: int = 4, looked: int = 400) -> list:
    """The float tensors of rank 2 or more (or of unknown shape) that ``loss`` is computed from,
    nearest first, that depend on a fed tensor and on a trained variable and are computed
    there (not a reshape or a cast of one): where a port's outputs may be (``--outputs``), as
    (op name, shape). First those that some fed tensor does not reach (the targets, in a loss
    of outputs and targets) and that end a layer (``LAYER_ENDS``); the nearest ``looked`` ops
    are looked at."""
    fed = {t.op.name for t in feeds.values()}
    trained = {v.op.name for v in variables}
    found, seen, todo = [], set(), [loss.op]
    while todo and len(seen) < looked:
        op = todo.pop(0)
        for tensor in op.inputs:
            if tensor.op.name in seen or tensor.op.name in fed:
                continue
            seen.add(tensor.op.name)
            todo.append(tensor.op)
            shape = tensor.shape.as_list() if tensor.shape.rank is not None else None
            batched = shape is None or len(shape) >= 2  # None: unknown
            if not batched or not tensor.dtype.is_floating or tensor.op.type in PLUMBING:
                continue
            reached = upstream(tensor.op, fed)
            if reached and upstream(tensor.op, trained):
                rank = (reached == fed, tensor.op.type not in LAYER_ENDS)
                found.append((rank, tensor.op.name, shape))
    found.sort(key=lambda item: item[0])  # stable: nearest first within each rank
    return [(name, shape) for _, name, shape in found[:count]]
