"""A worker of ``backprop-multi-worker``: started by ``backprop_suite.distribute.multi_worker.
launch`` with ``--worker I`` and its ``TF_CONFIG``."""

import sys

from backprop_suite.distribute.multi_worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
