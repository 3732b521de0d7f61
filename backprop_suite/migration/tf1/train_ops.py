"""The train ops a TF1 program makes: each ``tf.compat.v1.train`` optimizer's ``apply_gradients``
(``minimize`` calls it), the loss it minimizes and the variables it updates (its ``var_list``).

``TrainOps.watching()`` watches the optimizers and ``tf.gradients`` while a program builds its
graph; the script mode and the contract read what it found."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field


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
class TrainOps:
    """The train ops made while ``watching``, in the order they were made."""

    found: list[TrainOp] = field(default_factory=list)
    losses: dict = field(default_factory=dict)  # optimizer id -> its compute_gradients' loss
    gradient_calls: list = field(default_factory=list)  # (loss, variables) of tf.gradients

    def loss_of(self, optimizer, variables: list):
        """The loss whose gradients ``optimizer`` applies to ``variables``."""
        if id(optimizer) in self.losses:
            return self.losses[id(optimizer)]
        for loss, xs in reversed(self.gradient_calls):
            if all(any(v is x for x in xs) for v in variables):
                return loss
        return None

    def of_graph(self, graph) -> list[TrainOp]:
        return [t for t in self.found if t.op.graph is graph]

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """The optimizers' ``compute_gradients`` and ``apply_gradients`` and ``tf.gradients``
        watched while inside."""
        import tensorflow as tf
        from tensorflow.python.training.optimizer import Optimizer

        v1 = tf.compat.v1
        compute, apply = Optimizer.compute_gradients, Optimizer.apply_gradients
        gradients = v1.gradients

        def watched_compute(optimizer, loss, *args, **kwargs):
            self.losses[id(optimizer)] = loss
            return compute(optimizer, loss, *args, **kwargs)

        def watched_apply(optimizer, grads_and_vars, *args, **kwargs):
            pairs = list(grads_and_vars)
            op = apply(optimizer, pairs, *args, **kwargs)
            variables = [v for g, v in pairs if g is not None]
            loss = self.loss_of(optimizer, variables)
            self.found.append(TrainOp(op, loss, variables, optimizer=optimizer))
            return op

        def watched_gradients(ys, xs, *args, **kwargs):
            found = gradients(ys, xs, *args, **kwargs)
            listed = ys if isinstance(ys, list | tuple) else [ys]
            if len(listed) == 1:
                self.gradient_calls.append((listed[0], list(tf.nest.flatten(xs))))
            return found

        Optimizer.compute_gradients, Optimizer.apply_gradients = watched_compute, watched_apply
        v1.gradients = watched_gradients
        try:
            yield
        finally:
            Optimizer.compute_gradients, Optimizer.apply_gradients = compute, apply
            v1.gradients = gradients


def split_variables(loss, optimized: list, trainable: list) -> tuple[list, list, list, list]:
    """The trained variables (those of ``optimized`` that a gradient of ``loss`` reaches, in the
    order of ``trainable`` first), their gradients, the untrained trainable ones, and the names
    of those among them that a gradient reaches though the optimizer's var_list leaves them out."""
    import tensorflow as tf

    from backprop_suite.migration.tf1.program import name_of

    ordered = [v for v in trainable if any(v is u for u in optimized)]
    ordered += [v for v in optimized if not any(v is u for u in ordered)]
    found = tf.gradients(loss, ordered)
    trained = [v for v, g in zip(ordered, found) if g is not None]
    grads = [tf.convert_to_tensor(g) for g in found if g is not None]
    untrained = [v for v in trainable if not any(v is u for u in trained)]
    left_out = [v for v in untrained if not any(v is u for u in optimized)]
    reached = tf.gradients(loss, left_out) if left_out else []
    excluded = [name_of(v) for v, g in zip(left_out, reached) if g is not None]
    return trained, grads, untrained, excluded
