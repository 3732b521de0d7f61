"""``backprop-explain`` run from a checkout (``backprop_suite/cli/explain.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("explain")
