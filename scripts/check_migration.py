"""``backprop-check-migration`` run from a checkout (``backprop_suite/cli/check_migration.py``)."""

from backprop_suite.cli.script import launch

if __name__ == "__main__":
    launch("check_migration")
