"""``backprop-explain`` run from a checkout (``backprop_suite/cli/explain.py``)."""

from backprop_suite.cli.explain import run

if __name__ == "__main__":
    run()
