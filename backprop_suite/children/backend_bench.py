"""``backprop-bench --backends``' child: Keras's training modes timed on the backend
``KERAS_BACKEND`` names (``backprop_suite.bench.backends``), ``STEPS REPEATS`` as arguments."""

import sys

from backprop_suite.bench.backends import main

if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
