"""Train the seed net on MultiWorkerMirroredStrategy: worker processes on this machine.

    backprop-multi-worker --out workers/                     # two workers, float32
    backprop-multi-worker --workers 2 --dtype float64 --out /tmp/workers

starts the workers (``python -m backprop_suite.children.multi_worker --worker I``, each with its
``TF_CONFIG`` on loopback ports found free just before), waits for them within ``--timeout``
seconds (120), kills them if they overrun, and leaves each worker's weights, losses and outputs
from the custom loop and from ``fit`` in ``OUT/worker-I.npz``, its output in
``OUT/worker-I.log``. It prints each worker's exit status, then a verdict: every worker's
results held to the other workers' and to one device's (the custom loop trained in this
process), element by element, within the bound of data-parallel training against one device
for the dtype (``REPLICAS`` in ``backprop_suite/verify/tolerances.py``: 3e-6 in float32, 1e-14
in float64, absolute).

Exit status: 0 when every worker finished and all agree within that bound; 1 when a worker
failed or overran (its output's end is printed), or went to NaN or inf, or the results part (a
``DISAGREE:`` line for each worker, naming the reference, the array and element, both values and
the difference); 2 for bad input (one ``error: …`` line).
"""

from __future__ import annotations

from backprop_suite.cli.script import run_script


def main(argv: list[str] | None = None) -> int:
    from backprop_suite.distribute.multi_worker import main as launch

    return launch(argv, __doc__)


def run() -> None:
    """The ``backprop-multi-worker`` command: ``main``, quiet, its status the exit status."""
    run_script(main)


if __name__ == "__main__":
    run()
