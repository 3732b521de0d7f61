"""The installed ``backprop-NAME`` commands: each catches Ctrl-C before it imports its command's
module (``launch``)."""

from backprop_suite.cli.script import launch


def bench() -> None:
    launch("bench")


def check_gradients() -> None:
    launch("check_gradients")


def check_migration() -> None:
    launch("check_migration")


def compare() -> None:
    launch("compare")


def convert_checkpoint() -> None:
    launch("convert_checkpoint")


def explain() -> None:
    launch("explain")


def multi_worker() -> None:
    launch("multi_worker")


def sweep() -> None:
    launch("sweep")
