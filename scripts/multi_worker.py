"""``backprop-multi-worker`` run from a checkout (``backprop_suite/cli/multi_worker.py``)."""

from backprop_suite.cli.multi_worker import run

if __name__ == "__main__":
    run()
