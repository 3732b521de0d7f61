"""``backprop-check-gradients`` run from a checkout (``backprop_suite/cli/check_gradients.py``)."""

from backprop_suite.cli.check_gradients import run

if __name__ == "__main__":
    run()
