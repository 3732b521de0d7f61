"""The README's Python API example runs as printed."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_api_example_runs(capsys):
    section = README.read_text().split("## The Python API")[1].split("\n## ")[0]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    exec(compile(example, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["manual", "tf", "keras", "tf1"]
