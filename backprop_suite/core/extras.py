"""How a user installs an optional dependency: the extra of ``pyproject.toml``'s
``[project.optional-dependencies]`` that brings it, named in every message about one that is
missing."""

from __future__ import annotations

PROJECT = "backprop-reference-suite"
# an optional module -> the extra that installs it for a user (dev has them all, torch aside)
EXTRAS = {"matplotlib": "plot", "pytest": "test", "jax": "jax"}
# PyTorch's extra installs the plain wheel, a CUDA build that does not import on a CPU machine
TORCH = (
    'install the CPU build: python -m pip install "torch==2.13.0+cpu" (the torch extra, '
    f'python -m pip install "{PROJECT}[torch]", pins the plain wheel: a CUDA build, for a GPU '
    "machine)"
)


def install_extra(extra: str) -> str:
    """The command that installs ``extra``."""
    return f'python -m pip install "{PROJECT}[{extra}]"'


def install_hint(module: str) -> str:
    """How to install the optional ``module``: its extra's command, or how to get PyTorch."""
    if module == "torch":
        return TORCH
    if module in EXTRAS:
        return install_extra(EXTRAS[module])
    return f"python -m pip install {module}"
