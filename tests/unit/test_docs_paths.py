"""Every link in the README and docs/ leads somewhere, and every repository path they name in
backticks exists: a page that names a moved file fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAGES += sorted((ROOT / "examples" / "migrations").glob("**/README.md"))
PAGES += [ROOT / "tests" / "fixtures" / "README.md"]
TOP = ("backprop_suite/", "manual_impl/", "tf_impl/", "keras_impl/", "scripts/", "tests/", "docs/")
TOP += ("examples/",)


def links(text: str) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) if "://" not in t]


def named_paths(text: str) -> list[str]:
    found = re.findall(r"`([\w./-]+\.(?:py|md|png)|[\w./-]+/)`", text)
    return [p for p in found if p.startswith(TOP)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_and_named_path_of_a_page_exists(page):
    text = page.read_text()
    missing = [t for t in links(text) if not (page.parent / t).exists()]
    missing += [p for p in named_paths(text) if not (ROOT / p).exists()]
    assert not missing, f"{page.relative_to(ROOT)} names what is not there: {missing}"
