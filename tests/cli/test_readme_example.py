"""The Python API example of docs/agreement.md (moved there from the README) runs as printed."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "agreement.md"


def test_the_api_example_runs(capsys):
    section = PAGE.read_text().split("## The Python API")[1].split("\n## ")[0]
    example = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    exec(compile(example, str(PAGE), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["manual", "tf", "keras", "tf1"]
