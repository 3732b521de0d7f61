"""``backprop-compare`` run from a checkout (``backprop_suite/cli/compare.py``)."""

from backprop_suite.cli.compare import run

if __name__ == "__main__":
    run()
