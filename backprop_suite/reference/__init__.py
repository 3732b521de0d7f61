"""The reference every port is judged against: the seed article's TF1 program, runnable on
TensorFlow 2 (``tf1``, also ``load_implementation("tf1")``), and the reading of its Saver
checkpoints (``checkpoint``)."""

from backprop_suite.quiet import import_tensorflow

import_tensorflow()  # quietly, unless it is imported already
