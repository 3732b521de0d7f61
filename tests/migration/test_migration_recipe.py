"""The validation recipe at the end of docs/migration_guide.md runs as printed."""

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "migration_guide.md"


def python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_guides_validation_recipe_runs():
    recipe = python_blocks(GUIDE.read_text())[-1]
    assert "tf1_reference.train" in recipe
    exec(compile(recipe, str(GUIDE), "exec"), {})


def test_the_guides_checkpoint_example_names_real_functions():
    example = python_blocks(GUIDE.read_text())[0]
    assert "from backprop_suite.reference.checkpoint import load_tf1_checkpoint" in example
    from backprop_suite.reference.checkpoint import load_tf1_checkpoint  # noqa: F401
