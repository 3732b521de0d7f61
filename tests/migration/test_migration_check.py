"""check_migration on the gallery (examples/migrations/): every port agrees with its TF1 program,
and each classic migration mistake is caught at its stage, with its cause named.

The TF1 program runs once per test in its own process (``run_tf1``); its record is then checked
against the correct port and against every wrong port of tests/fixtures/wrong_ports/. The
largest differences asserted below were measured with ``python scripts/check_migration.py
examples/migrations/NAME/tf1.py examples/migrations/NAME/keras3.py``.
"""

from __future__ import annotations

import pytest
from gallery import GALLERY, NOT_BIT_FOR_BIT, STEPS, check_gallery_program
from optional import needs

from backprop_suite.migration import Options, check_port, run_tf1

# towers, data-parallel: tests/distributed/test_towers_migration.py
PROGRAMS = sorted(name for name in NOT_BIT_FOR_BIT if name != "towers")
# the LSTM's TF1 program runs on legacy Keras; the autoencoder's rounding-only port depends on
# the CPU's kernels (tests/agreement/test_cpu_kernels.py)
MARKS = {"lstm": needs("tf_keras"), "autoencoder_rmsprop": pytest.mark.cpu_kernels}


@pytest.mark.slow
@pytest.mark.parametrize(
    "program", [pytest.param(name, marks=MARKS.get(name, ())) for name in PROGRAMS]
)
def test_the_gallery_port_agrees_and_each_wrong_port_fails_where_expected(program):
    check_gallery_program(program)


@pytest.mark.slow
def test_the_plain_tf2_port_of_linear_regression_agrees_bit_for_bit():
    record = run_tf1(str(GALLERY / "linear_regression" / "tf1.py"), STEPS)
    report = check_port(record, str(GALLERY / "linear_regression" / "tf2.py"), Options(steps=STEPS))
    assert report.agrees and all(s.largest == 0 for s in report.stages), report.text()


@pytest.mark.slow
def test_in_float64_tf1_trains_at_a_float32_rate_and_the_check_says_so():
    options = Options(steps=2, dtype="float64")
    record = run_tf1(str(GALLERY / "linear_regression" / "tf1.py"), 2, dtype="float64")
    report = check_port(record, str(GALLERY / "linear_regression" / "tf2.py"), options)
    failed = report.failed
    assert failed is not None and failed.stage == "one step", report.text()
    assert "float32(0.01)" in failed.hint
    assert [s.largest for s in report.stages[:4]] == [0.0] * 4, report.text()
