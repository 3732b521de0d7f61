"""Every command's ``--help`` is whole, as a user who installed the package with pip reads it.

``help_problems`` is the definition of whole. A help text has a problem where

- a prose paragraph of the description (a paragraph whose first line is not indented) does not end
  in ``.``, ``?`` or ``!``, or in ``:`` with an indented block after it: a description cut at a
  line ends mid-sentence;
- no indented example line of the description starts with the installed command
  (``backprop-NAME``), or any line says ``python scripts/`` (a pip user has no scripts folder);
- an option or positional argument has no help, or its help is unfinished: it ends in ``,``,
  ``;``, ``-`` or ``(``, or in a word that ends no phrase (``and``, ``of``, ``per``, ``the``, …), or
  its brackets do not balance;
- a subcommand (a command module's ``SUBCOMMANDS``) is missing from the usage line.

``test_the_checker_finds_*`` show that each rule fails on a help text that breaks it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from script_runner import load, run_in_process

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(path.stem for path in (ROOT / "scripts").glob("*.py"))
# words that end no phrase (a stranded preposition may: "what --check retrains in")
DANGLING = {"a", "an", "and", "but", "nor", "of", "or", "per", "than", "the"}
FIRST_SECTION = re.compile(r"^(positional arguments|options|optional arguments):$")
SECTION = re.compile(r"^\S.*:$")  # after the description: "options:", a group's title


def command_name(name: str) -> str:
    """The installed command of ``scripts/NAME.py``."""
    return "backprop-" + name.replace("_", "-")


def paragraphs(lines: list[str]) -> list[list[str]]:
    """``lines`` split at blank lines."""
    found: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return [p for p in found if p]


def option_helps(lines: list[str]) -> dict[str, str]:
    """Each option's (or positional argument's) help, by its invocation, from the sections
    after the description: an entry starts with two spaces, its help follows on the same line
    after two or more spaces or on the lines below, indented deeper."""
    helps: dict[str, str] = {}
    current = None
    for line in lines:
        if not line.strip() or SECTION.match(line):
            current = None
            continue
        entry = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if entry:
            current = entry.group(1)
            helps[current] = entry.group(2) or ""
        elif current is not None:
            helps[current] = (helps[current] + " " + line.strip()).strip()
    return helps


def unfinished(phrase: str) -> bool:
    """Whether a help phrase stops before its end."""
    phrase = phrase.strip()
    if not phrase or phrase[-1] in ",;-(":
        return True
    if phrase.count("(") != phrase.count(")") or phrase.count("[") != phrase.count("]"):
        return True
    last = re.findall(r"[A-Za-z]+", phrase.split()[-1])
    return bool(last) and phrase.split()[-1].isalpha() and last[-1].lower() in DANGLING


def help_problems(text: str, command: str, subcommands: tuple[str, ...] = ()) -> list[str]:
    """What is not whole in ``text``, the ``--help`` of ``command`` (``backprop-NAME``)."""
    problems = []
    lines = text.splitlines()
    usage_end = lines.index("") if "" in lines else len(lines)
    usage = "\n".join(lines[:usage_end])
    if not usage.startswith("usage: "):
        problems.append("no usage line")
    for sub in subcommands:
        if not re.search(rf"(?<![-\w]){re.escape(sub)}(?![-\w])", usage):
            problems.append(f"subcommand {sub!r} is not in the usage line")
    rest = lines[usage_end:]
    end = next((i for i, line in enumerate(rest) if FIRST_SECTION.match(line)), len(rest))
    description = paragraphs(rest[:end])
    if not description:
        problems.append("no description")
    for index, paragraph in enumerate(description):
        if paragraph[0].startswith(" "):
            continue
        last = paragraph[-1].rstrip()
        block_follows = index + 1 < len(description) and description[index + 1][0].startswith(" ")
        if not (last.endswith((".", "?", "!")) or (last.endswith(":") and block_follows)):
            problems.append(f"description paragraph ends mid-sentence: {last!r}")
    examples = [line.strip() for p in description if p[0].startswith(" ") for line in p]
    if subcommands or description:
        if not any(line.split()[0] == command for line in examples if line.split()):
            problems.append(f"no example line starts with {command}")
    problems += [
        f"says python scripts/: {line.strip()!r}" for line in lines if "python scripts/" in line
    ]
    for invocation, phrase in option_helps(rest[end:]).items():
        if not phrase:
            problems.append(f"{invocation}: no help")
        elif unfinished(phrase):
            problems.append(f"{invocation}: unfinished help {phrase!r}")
    return problems


def help_of(name: str, *before: str) -> str:
    done = run_in_process(load(name), *before, "--help")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def test_there_are_eight_commands():
    assert [command_name(name) for name in NAMES] == sorted(
        [
            "backprop-compare",
            "backprop-explain",
            "backprop-check-gradients",
            "backprop-bench",
            "backprop-check-migration",
            "backprop-convert-checkpoint",
            "backprop-multi-worker",
            "backprop-sweep",
        ]
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_commands_help_is_whole(name):
    subcommands = tuple(getattr(load(name), "SUBCOMMANDS", {}))
    text = help_of(name)
    assert help_problems(text, command_name(name), subcommands) == [], text


def test_every_subcommands_help_is_whole():
    checked = 0
    for name in NAMES:
        for sub in getattr(load(name), "SUBCOMMANDS", {}):
            text = help_of(name, sub)
            problems = [
                p for p in help_problems(text, command_name(name)) if not p.startswith("no example")
            ]
            assert problems == [], text
            checked += 1
    assert checked >= 1  # sweep merge


def test_help_imports_no_tensorflow():
    program = (
        "import sys, contextlib, io, importlib\n"
        f"for name in {NAMES!r}:\n"
        "    main = importlib.import_module('backprop_suite.cli.' + name).main\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(['--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


GOOD = """usage: backprop-thing [-h] [--rows N]
       backprop-thing merge [-h] FILE

Do a thing to the rows, all of them.

    backprop-thing --rows 3            # three rows
    backprop-thing merge a.json

Exit status: 0 done; 2 bad input (one ``error: …`` line).

options:
  -h, --help  show this help message and exit
  --rows N    rows per update (all)
  --a-much-longer-option-name LONG
              sum_squares | half_sum_squares | mean_squares
"""


def test_the_checker_passes_a_whole_help_text():
    assert help_problems(GOOD, "backprop-thing", ("merge",)) == []


def test_the_checker_finds_a_description_cut_mid_sentence():
    cut = GOOD.replace("all of them.", "and how each")
    assert help_problems(cut, "backprop-thing") == [
        "description paragraph ends mid-sentence: 'Do a thing to the rows, and how each'"
    ]
    dangling_colon = GOOD.replace("all of them.", "as follows:").replace(
        "(one ``error: …`` line).", "as follows:"
    )
    assert len(help_problems(dangling_colon, "backprop-thing")) == 1  # the first one has a block


def test_the_checker_finds_python_scripts_examples():
    old = GOOD.replace("    backprop-thing --rows", "    python scripts/thing.py --rows")
    old = old.replace("    backprop-thing merge a", "    python scripts/thing.py merge a")
    problems = help_problems(old, "backprop-thing")
    assert "no example line starts with backprop-thing" in problems
    assert sum(p.startswith("says python scripts/") for p in problems) == 2


def test_the_checker_finds_options_without_help_or_with_unfinished_help():
    bare = GOOD.replace("  --rows N    rows per update (all)", "  --rows N")
    assert help_problems(bare, "backprop-thing") == ["--rows N: no help"]
    for cut in ("rows per", "rows per update (all", "rows per update and", "rows,"):
        text = GOOD.replace("rows per update (all)", cut)
        assert help_problems(text, "backprop-thing") == [f"--rows N: unfinished help {cut!r}"]


def test_the_checker_finds_a_subcommand_missing_from_the_usage_line():
    alone = GOOD.replace("       backprop-thing merge [-h] FILE\n", "")
    assert help_problems(alone, "backprop-thing", ("merge",)) == [
        "subcommand 'merge' is not in the usage line"
    ]
