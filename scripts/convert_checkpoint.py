"""``backprop-convert-checkpoint`` run from a checkout
(``backprop_suite/cli/convert_checkpoint.py``)."""

from backprop_suite.cli.convert_checkpoint import run

if __name__ == "__main__":
    run()
