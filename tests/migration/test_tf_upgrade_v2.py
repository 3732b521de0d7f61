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


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory):
    """One run of the script over a tree of two files: the article's program as it is, and
    with Python 3's print. Per file: the converted text and its part of the report."""
    folder = tmp_path_factory.mktemp("upgrade")
    (folder / "in").mkdir()
    text = ARTICLE_PROGRAM.read_text()
    (folder / "in" / "article.py").write_text(text)
    with_prints = re.sub(r"^( *)print (.*)$", r"\1print(\2)", text, flags=re.M)
    (folder / "in" / "with_prints.py").write_text(with_prints)
    run = subprocess.run(
        [UPGRADE, "--intree", "in", "--outtree", "out", "--reportfile", "report.txt"],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=folder,
    )
    sections = (folder / "report.txt").read_text().split("Processing file 'in/")[1:]
    reports = {section.split("'")[0]: section for section in sections}
    return run, folder / "out", reports


def test_the_article_program_is_reported_clean_and_converted_to_nothing(upgraded):
    run, out, reports = upgraded
    assert run.returncode == 0
    assert "Detected 0 issues that require attention" in run.stdout
    assert "ERROR: Failed to parse." in reports["article.py"]  # only the report file says so
    assert (out / "article.py").read_text() == ""  # the output file is empty


def test_with_python3_prints_it_renames_four_symbols(upgraded):
    run, out, reports = upgraded
    assert "Detected 0 issues that require attention" in run.stdout
    renames = re.findall(r"INFO: Renamed '([\w.]+)' to '([\w.]+)'", reports["with_prints.py"])
    assert sorted(set(renames)) == [
        ("tf.Session", "tf.compat.v1.Session"),
        ("tf.global_variables_initializer", "tf.compat.v1.global_variables_initializer"),
        ("tf.random_uniform", "tf.random.uniform"),
        ("tf.train.GradientDescentOptimizer", "tf.compat.v1.train.GradientDescentOptimizer"),
    ]
    assert len(renames) == 7  # random_uniform four times

    # and the converted program still does not run under TF2's eager default
    converted = out / "with_prints.py"
    ran = subprocess.run([sys.executable, str(converted)], capture_output=True, text=True, env=ENV)
    assert ran.returncode != 0
    assert (
        "`loss` passed to Optimizer.compute_gradients should be a function when eager "
        "execution is enabled"
    ) in ran.stderr
