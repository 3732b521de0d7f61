"""The TensorFlow op types that read a tensor's shape alone: no gradient flows through them, so a
tensor they read is not read for its values (``tf1.boundaries`` in TF1's graph,
``port.blocks`` in the port's trace)."""

SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank"})
