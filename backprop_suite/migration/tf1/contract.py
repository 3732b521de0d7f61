"""The contract: ``tf1_program()`` built in a fresh graph of its own."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from backprop_suite.migration.programs import call, function
from backprop_suite.migration.tf1.graph_walk import upstream
from backprop_suite.migration.tf1.program import Program, name_of
from backprop_suite.migration.tf1.train_ops import TrainOps, split_variables

KEYS = ("feeds", "loss", "train_op")


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
    made = TrainOps()
    with graph.as_default():
        v1.set_random_seed(seed)
        with made.watching():
            built = checked_program(call(program, old_path, **options), old_path)
        variables = v1.trainable_variables()
        if not variables:
            raise ValueError(f"{old_path}: tf1_program() made no trainable variables")
        trained, grads, untrained, excluded = split_variables(
            built["loss"], optimized(built["train_op"], made, variables), variables
        )
        if not trained:
            raise ValueError(f"{old_path}: no gradient of tf1_program()'s loss reaches a variable")
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
    return Program(graph, built, trained, grads, untrained, kept, config, every, excluded=excluded)


def optimized(train_op, made: TrainOps, trainable: list) -> list:
    """The variables that the optimizers behind ``train_op`` update (their var_lists), or every
    trainable one where no ``tf.compat.v1.train`` optimizer made it."""
    import tensorflow as tf

    op = train_op if isinstance(train_op, tf.Operation) else train_op.op
    behind = upstream(op, {t.op.name for t in made.of_graph(op.graph)})
    found = [v for t in made.found if t.op.name in behind for v in t.variables]
    return found or trainable
