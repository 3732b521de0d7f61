"""``backprop-multi-worker`` run from a checkout (``backprop_suite/cli/multi_worker.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("multi_worker")
