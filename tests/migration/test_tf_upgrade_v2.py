"""What TensorFlow's own upgrade script does with the seed program (MIGRATION.md, pitfall 1)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ARTICLE_PROGRAM = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_snippet.py"
UPGRADE = shutil.which(
    "tf_upgrade_v2", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UPGRADE is None, reason="tf_upgrade_v2 is not installed with tensorflow"),
]


def upgrade(source: Path, tmp_path: Path):
    out = tmp_path / "upgraded.py"
    report = tmp_path / "report.txt"
    run = subprocess.run(
        [UPGRADE, "--infile", str(source), "--outfile", str(out), "--reportfile", str(report)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=tmp_path,
    )
    return run, out, report.read_text()


def test_the_article_program_is_reported_clean_and_converted_to_nothing(tmp_path):
    run, out, report = upgrade(ARTICLE_PROGRAM, tmp_path)
    assert run.returncode == 0
    assert "Detected 0 issues that require attention" in run.stdout
    assert "ERROR: Failed to parse." in report  # only the report file says so
    assert out.read_text() == ""  # the output file is empty


def test_with_python3_prints_it_renames_four_symbols(tmp_path):
    fixed = tmp_path / "seed_py3.py"
    text = re.sub(r"^( *)print (.*)$", r"\1print(\2)", ARTICLE_PROGRAM.read_text(), flags=re.M)
    fixed.write_text(text)
    run, out, report = upgrade(fixed, tmp_path)
    assert "Detected 0 issues that require attention" in run.stdout
    renames = re.findall(r"INFO: Renamed '([\w.]+)' to '([\w.]+)'", report)
    assert sorted(set(renames)) == [
        ("tf.Session", "tf.compat.v1.Session"),
        ("tf.global_variables_initializer", "tf.compat.v1.global_variables_initializer"),
        ("tf.random_uniform", "tf.random.uniform"),
        ("tf.train.GradientDescentOptimizer", "tf.compat.v1.train.GradientDescentOptimizer"),
    ]
    assert len(renames) == 7  # random_uniform four times

    # and the converted program still does not run under TF2's eager default
    ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, env=ENV)
    assert ran.returncode != 0
    assert (
        "`loss` passed to Optimizer.compute_gradients should be a function when eager "
        "execution is enabled"
    ) in ran.stderr
