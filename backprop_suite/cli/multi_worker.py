"""Train the seed net on MultiWorkerMirroredStrategy: worker processes on this machine.

    python scripts/multi_worker.py --workers 2 --dtype float64 --out /tmp/workers

starts the workers (``python -m backprop_suite.children.multi_worker --worker I``, each with its
``TF_CONFIG`` on loopback
ports found free just before), waits for them within ``--timeout`` seconds (120), kills
them if they overrun, and leaves each worker's weights, losses and outputs from the custom loop
and from ``fit`` in ``OUT/worker-I.npz``, its output in ``OUT/worker-I.log``. Exit status: 0 when
every worker finished; 1 when one failed or overran (its output's end is printed); 2 for bad
input.
"""

from __future__ import annotations

from backprop_suite.cli.script import run_script


def main(argv: list[str] | None = None) -> int:
    from backprop_suite.distribute.multi_worker import main as launch

    return launch(argv)


def run() -> None:
    """The ``backprop-multi-worker`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
