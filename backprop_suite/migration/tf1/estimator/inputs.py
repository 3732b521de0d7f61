"""``tf.estimator.inputs``: ``numpy_input_fn`` and ``pandas_input_fn``, built on ``tf.data``
where the real ones filled a queue from Python threads.

Each returns an ``input_fn`` whose batches come from a one-shot iterator over the arrays
(``features`` a dict when ``x`` is one or a frame, a tensor when ``x`` is an array; ``labels``
likewise from ``y``): shuffled, when asked, with a buffer of ``queue_capacity`` rows and a seed
drawn from the graph's seed (the same batches for the same ``tf_random_seed``); ``num_epochs``
passes, the last batch short when ``num_epochs`` is a number, every batch full when it is
``None`` (forever), as ``dequeue_up_to`` and ``dequeue_many`` gave. The real one's check that
``shuffle`` is given is kept. ``pandas_input_fn`` takes any frame-like object with ``.columns``
and column access (pandas itself is not needed); ``num_threads`` has no effect."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DIRECT_INPUT = "__direct_np_input__"
TARGET_KEY = "__target_key__"


def require_shuffle(shuffle) -> None:
    if not isinstance(shuffle, bool):
        raise ValueError(
            "shuffle must be provided and explicitly set as boolean (it is recommended to set it "
            f"as True for training); got {shuffle}"
        )


def batches(columns: dict, batch_size: int, num_epochs, shuffle: bool, capacity: int) -> dict:
    """The next batch of each of ``columns`` (name -> array), as tensors."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(dict(columns))
    if shuffle:
        dataset = dataset.shuffle(max(int(capacity), 1), reshuffle_each_iteration=True)
    dataset = dataset.repeat(num_epochs).batch(batch_size, drop_remainder=num_epochs is None)
    return tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()


def features_dict(x) -> dict:
    if isinstance(x, dict):
        if not x:
            raise ValueError("x cannot be an empty dict")
        return dict(sorted(x.items()))
    if isinstance(x, np.ndarray):
        if x.size == 0:
            raise ValueError("x cannot be an empty array")
        return {DIRECT_INPUT: x}
    raise TypeError(f"x must be a dict or array; got {type(x).__name__}")


def numpy_input_fn(
    x,
    y=None,
    batch_size: int = 128,
    num_epochs: int | None = 1,
    shuffle: bool | None = None,
    queue_capacity: int = 1000,
    num_threads: int = 1,
) -> Callable[[], object]:
    """An ``input_fn`` of ``x`` (an array or a dict of arrays) and ``y`` (the same, or None)."""
    require_shuffle(shuffle)

    def input_fn():
        columns = features_dict(x)
        feature_keys = list(columns)
        if y is None:
            target_keys = None
        elif isinstance(y, dict):
            if not y:
                raise ValueError("y cannot be empty dict, use None instead.")
            target_keys = sorted(y)
            duplicates = set(feature_keys) & set(target_keys)
            if duplicates:
                raise ValueError(
                    f"{len(duplicates)} duplicate keys are found in both x and y: {duplicates}"
                )
            columns.update((k, y[k]) for k in target_keys)
        else:
            target_keys = TARGET_KEY
            while target_keys in columns:
                target_keys += "_n"
            columns[target_keys] = y
        if len({np.shape(v)[0] for v in columns.values()}) != 1:
            shapes_x = {k: np.shape(columns[k]) for k in feature_keys}
            if target_keys is None:
                shapes_y = None
            elif isinstance(target_keys, str):
                shapes_y = np.shape(y)
            else:
                shapes_y = {k: np.shape(columns[k]) for k in target_keys}
            raise ValueError(
                "Length of tensors in x and y is mismatched. All elements in x and y must have "
                f"the same length.\nShapes in x: {shapes_x}\nShapes in y: {shapes_y}\n"
            )
        batch = batches(columns, batch_size, num_epochs, shuffle, queue_capacity)
        features = (
            batch[DIRECT_INPUT]
            if isinstance(x, np.ndarray)
            else {k: batch[k] for k in feature_keys}
        )
        if target_keys is None:
            return features
        if isinstance(target_keys, str):
            return features, batch[target_keys]
        return features, {k: batch[k] for k in target_keys}

    return input_fn


def column_arrays(frame) -> dict:
    return {name: np.asarray(frame[name]) for name in list(frame.columns)}


def pandas_input_fn(
    x,
    y=None,
    batch_size: int = 128,
    num_epochs: int | None = 1,
    shuffle: bool | None = None,
    queue_capacity: int | None = 1000,
    num_threads: int = 1,
    target_column: str = "target",
) -> Callable[[], object]:
    """An ``input_fn`` of the frame ``x`` (features by column) and ``y`` (a series, or a frame
    whose columns become a dict of labels)."""
    require_shuffle(shuffle)
    if not isinstance(target_column, str):
        raise TypeError("target_column must be a string type")
    columns = column_arrays(x)
    if y is not None:
        if target_column in columns:
            raise ValueError(
                f"Cannot use name {target_column} for target column: DataFrame already has a "
                f"column with that name: {list(x.columns)}"
            )
        if hasattr(x, "index") and hasattr(y, "index"):
            if not np.array_equal(np.asarray(x.index), np.asarray(y.index)):
                raise ValueError(
                    f"Index for x and y are mismatched.\nIndex for x: {x.index}\n"
                    f"Index for y: {y.index}\n"
                )
    if queue_capacity is None:
        rows = len(next(iter(columns.values()))) if columns else 0
        queue_capacity = 4 * rows if shuffle else rows

    def input_fn():
        data = dict(columns)
        if y is None:
            return batches(data, batch_size, num_epochs, shuffle, queue_capacity)
        if hasattr(y, "columns"):
            keys = {}
            for name, values in column_arrays(y).items():
                key = name
                while key in data:
                    key += "_n"
                keys[name] = key
                data[key] = values
            batch = batches(data, batch_size, num_epochs, shuffle, queue_capacity)
            return {k: batch[k] for k in columns}, {name: batch[k] for name, k in keys.items()}
        data[target_column] = np.asarray(y)
        batch = batches(data, batch_size, num_epochs, shuffle, queue_capacity)
        return {k: batch[k] for k in columns}, batch[target_column]

    return input_fn
