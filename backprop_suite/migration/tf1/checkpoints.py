"""TF1's ``tf.train.Saver`` checkpoints: read one by its prefix (what ``save`` returned), and
the names it holds, in the order the program made them (``save`` writes one).

A Saver checkpoint names every variable as the graph named it (``dense/kernel``, ``Variable_2``)
and holds the optimizer's slots beside them (``dense/kernel/Adam``, ``Variable_2/Momentum``),
its other variables (``beta1_power``) and the counters (``global_step``). An object-based TF2
checkpoint (``tf.train.Checkpoint``) names paths through objects instead
(``model/layer/kernel/.ATTRIBUTES/VARIABLE_VALUE``) and is refused as one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OBJECT_GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"


def checkpoint_prefix(given: str | Path) -> str:
    """The prefix of the checkpoint ``given`` names: a prefix (``model.ckpt-100``), one of its
    files (``.index``, ``.meta``, ``.data-…``), or a folder with a ``checkpoint`` file. A
    ``ValueError`` says what is missing."""
    path = Path(given)
    if path.is_dir():
        state = path / "checkpoint"
        if not state.is_file():
            raise ValueError(f"{given} is a folder without a 'checkpoint' file: name the prefix")
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(str(path))
        if latest is None:
            raise ValueError(f"{state} names no checkpoint whose files are there")
        return latest
    text = str(path)
    for suffix in (".index", ".meta"):
        text = text.removesuffix(suffix)
    if ".data-" in Path(text).name:
        text = text[: text.rindex(".data-")]
    if not Path(text + ".index").is_file():
        if path.exists():
            raise ValueError(f"{given}: no {Path(text).name}.index beside it: not a checkpoint")
        raise ValueError(f"{given}: no such checkpoint (no file {Path(text).name}.index)")
    return text


def read_checkpoint(given: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a Saver checkpoint, by name. Missing, truncated or unreadable files,
    a checkpoint of no variables and an object-based TF2 checkpoint are a ``ValueError``."""
    import tensorflow as tf

    prefix = checkpoint_prefix(given)
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = sorted(reader.get_variable_to_shape_map())
        if OBJECT_GRAPH in names:
            raise ValueError(
                f"{given} is an object-based TF2 checkpoint (tf.train.Checkpoint): its names are "
                "paths through objects, not TF1 variables; restore it with "
                "tf.train.Checkpoint(model=...).restore(), and convert Saver checkpoints here"
            )
        values = {name: np.asarray(reader.get_tensor(name)) for name in names}
    except ValueError:
        raise
    except Exception as error:  # DataLossError, NotFoundError, a truncated shard
        first = (str(error).strip().splitlines() or [repr(error)])[0]
        raise ValueError(
            f"{given} cannot be read as a checkpoint: {type(error).__name__}: {first}"
        ) from None
    if not values:
        raise ValueError(f"{given} holds no variables")
    return values


def held(values: dict, shown: int = 8) -> str:
    """The names a checkpoint holds, the first ``shown`` of them and how many more."""
    names = sorted(values)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{names[:shown]}{more}"


def creation_order(given: str | Path) -> list[str] | None:
    """The trainable variables in the order the graph made them, from the checkpoint's
    ``.meta`` file (what ``Saver.save`` writes beside it); None when there is none."""
    from tensorflow.core.framework import variable_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = Path(checkpoint_prefix(given) + ".meta")
    if not meta.is_file():
        return None
    graph = meta_graph_pb2.MetaGraphDef()
    try:
        graph.ParseFromString(meta.read_bytes())
    except Exception as error:
        raise ValueError(f"{meta} is not a MetaGraphDef: {type(error).__name__}") from None
    collection = graph.collection_def.get("trainable_variables")
    if collection is None:
        return []
    order = []
    for item in collection.bytes_list.value:
        variable = variable_pb2.VariableDef()
        variable.ParseFromString(item)
        order.append(variable.variable_name.split(":")[0])
    return order
