"""A Keras port's layers as the layer localisation sees them, and what crosses between them.

A *block* is a layer that owns trainable variables (a ``Dense``, an ``LSTM``, a hand-written
``keras.layers.Layer``), or a layer without variables that the user named (``--layer-map``);
models inside the model (a nested ``Sequential``, a subclassed ``keras.Model``) are looked into,
the blocks are not. The layers without variables that run between two blocks (pooling,
activations, dropout, reshapes) belong to the block before them, so a block's output is what the
next block is given, and the last block's output is the model's.

``Crossing`` runs the model with every block's ``call`` watched: it records what each block is
given, and can add a zero *probe* there (whose gradient is the loss's gradient with respect to
that tensor) or give the block another tensor instead (TF1's, for ``--isolate``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import tensorflow as tf

from backprop_suite.migration.shape_ops import SHAPE_OPS


@dataclass
class Block:
    """A block: its name (the layer's), the layer, the positions of its variables among the
    port's trained ones, and the layers without variables that follow it."""

    name: str
    layer: object
    variables: list[int]
    followers: list[str] = field(default_factory=list)


def layers_of(model) -> list:
    """The layers that are no model, looking into the models inside ``model``, each once."""
    import keras

    found, seen = [], set()

    def visit(layer) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            for inner in layer.layers:
                visit(inner)
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)

    visit(model)
    return found


def port_blocks(port, named: tuple[str, ...] = ()) -> list[Block]:
    """The blocks of a Keras port, in the order the model calls them (``calling_order``), each
    variable in the one block that owns it (a layer that reads another's kernel, as a tied
    decoder does, does not own it). A ``ValueError`` where the port has no model or ``named``
    names no layer of it."""
    model = getattr(port, "model", None)
    if model is None:
        flag = "--layer-map: " if named else ""
        raise ValueError(
            f"{flag}the layers are those of a Keras model: a hand-written port's functions have "
            "no layer boundaries to watch"
        )
    layers = layers_of(model)
    unknown = [name for name in named if name not in {layer.name for layer in layers}]
    if unknown:
        shown = ", ".join(layer.name for layer in layers)
        raise ValueError(f"--layer-map names {unknown}, which the port's model lacks ({shown})")
    index = {id(v): i for i, v in enumerate(port.variables)}
    owner: dict[int, object] = {}
    for layer in layers:  # a layer's own variables first, then those of its sublayers
        for variable in getattr(layer, "_trainable_variables", []):
            owner.setdefault(id(variable), layer)
    for layer in layers:
        for variable in layer.trainable_variables:
            owner.setdefault(id(variable), layer)
    blocks: list[Block] = []
    for layer in layers:
        mine = [index[key] for key, held in owner.items() if held is layer and key in index]
        if mine or layer.name in named:
            blocks.append(Block(layer.name, layer, sorted(mine)))
        elif blocks:
            blocks[-1].followers.append(layer.name)
    return blocks


UNSET = object()  # a layer whose instance had no ``call`` of its own


def single(value):
    """The one tensor a layer is given (None for several)."""
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else None
    return value


class Crossing:
    """One run of the model with its blocks watched. ``given[i]``: what block ``i`` was given
    (after ``instead``, before the probe), ``raw[i]``: what reached it before ``instead``;
    ``instead[i]``: a tensor block ``i`` is given instead; ``probes[i]``: added to block
    ``i``'s input."""

    def __init__(
        self, blocks: list[Block], instead: dict | None = None, probes: dict | None = None
    ):
        self.blocks, self.instead, self.probes = blocks, instead or {}, probes or {}
        self.given: dict[int, object] = {}
        self.raw: dict[int, object] = {}
        self.order: list[int] = []
        self.own: set[str] = set()  # the ops this watch adds (the probes' sums)
        self.fed: dict[int, object] = {}  # what block ``i``'s call was given in the end
        self.depth = 0

    def wrapped(self, i: int, call):
        def watched(*args, **kwargs):
            if self.depth or i in self.given or not args:
                return call(*args, **kwargs)
            x = single(args[0])
            if x is None:
                return call(*args, **kwargs)
            self.order.append(i)
            self.raw[i] = x
            if i in self.instead:
                x = tf.reshape(tf.cast(self.instead[i], x.dtype), tf.shape(x))
            self.given[i] = x
            if i in self.probes and x.dtype.is_floating:
                x = x + tf.cast(self.probes[i], x.dtype)
                self.own.add(getattr(getattr(x, "op", None), "name", ""))
            self.fed[i] = x
            self.depth += 1
            try:
                return call(x, *args[1:], **kwargs)
            finally:
                self.depth -= 1

        return watched

    def read_elsewhere(self) -> set[int]:
        """The boundaries whose traced tensor ops other than its block's read too (a skip
        connection's ``Add``, the loss's targets): the gradient the block gives back there is
        not all of the loss's gradient. Known only where the block was given another tensor (a
        probe's sum, TF1's input)."""
        found = set()
        for i, tensor in self.raw.items():
            if self.fed.get(i) is not tensor:
                readers = [
                    op
                    for op in tensor.consumers()
                    if op.type not in SHAPE_OPS and op.name not in self.own
                ]
                if readers:
                    found.add(i)
        return found

    @contextlib.contextmanager
    def watching(self) -> Iterator[Crossing]:
        """The blocks' ``call`` watched while inside; the layers as they were after."""
        patched = []
        try:
            for i, block in enumerate(self.blocks):
                layer = block.layer
                patched.append((layer, vars(layer).get("call", UNSET)))
                layer.call = self.wrapped(i, layer.call)
            yield self
        finally:
            for layer, before in reversed(patched):
                if before is UNSET:
                    del layer.call
                else:
                    layer.call = before
