"""``backprop-compare`` run from a checkout (``backprop_suite/cli/compare.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("compare")
