"""``backprop-bench`` run from a checkout (``backprop_suite/cli/bench.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("bench")
