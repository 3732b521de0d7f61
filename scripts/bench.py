"""``backprop-bench`` run from a checkout (``backprop_suite/cli/bench.py``)."""

from backprop_suite.cli.bench import run

if __name__ == "__main__":
    run()
