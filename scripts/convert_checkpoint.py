"""``backprop-convert-checkpoint`` run from a checkout
(``backprop_suite/cli/convert_checkpoint.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("convert_checkpoint")
