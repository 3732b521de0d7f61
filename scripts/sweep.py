"""``backprop-sweep`` run from a checkout (``backprop_suite/cli/sweep.py``)."""

from backprop_suite.cli.sweep import run

if __name__ == "__main__":
    run()
