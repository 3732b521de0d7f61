"""``backprop_suite.gradcheck`` on the field models of ``tests/fixtures/gradcheck/field`` (Keras 3
models written as users write them, half of them by someone who had not read the library): every
correct model in each of its policies, full and fast, must pass, and every planted bug must be
caught with its variable named. One line a case, then the count of crashes, false alarms and
missed bugs.

    python -m backprop_suite.bench.gradcheck_field [--only NAME] [--policies float32,float64]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

FIELD = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "gradcheck" / "field"


@contextmanager
def field_module(path: Path) -> Iterator[ModuleType]:
    """The field model's file as a module, its folder importable while open; the modules of
    that folder it imported (``planted``), and the path, taken away after."""
    before, modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"field_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = before
        for name in set(sys.modules) - modules:
            if str(getattr(sys.modules[name], "__file__", "")).startswith(str(path.parent)):
                del sys.modules[name]


def outcome(module: ModuleType, name: str, fast: bool, bug: bool) -> str:
    """What the check did: "passed", "caught", or what went wrong ("CRASH …", "FALSE ALARM …",
    "MISSED", "NOT NAMED …")."""
    from backprop_suite.gradcheck import GradientMismatch, check_model_gradients
    from backprop_suite.gradcheck.reference import dtype_policy
    from backprop_suite.seeds import seeded

    with seeded(0), dtype_policy(name):
        try:
            model = module.model(bug=bug)
        except NotImplementedError:
            return "no bug planted"
    x, y = module.data()
    try:
        check_model_gradients(model, x, y, module.loss(), training=module.TRAINING, fast=fast)
    except GradientMismatch as error:
        if not bug:
            return f"FALSE ALARM {error}"
        return "caught" if module.BUG in str(error) else f"NOT NAMED {error}"
    except Exception as error:
        return f"CRASH {type(error).__name__}: {error}"
    return "MISSED" if bug else "passed"


def cases(only: str | None, policies: tuple[str, ...] | None):
    for path in sorted(FIELD.glob("*.py")):
        if path.stem == "planted" or (only and only not in path.stem):
            continue
        with field_module(path) as module:
            for name in policies or getattr(module, "POLICIES", ("float32", "float64")):
                for fast in (False, True):
                    for bug in (False, True):
                        yield path.stem, module, name, fast, bug


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only")
    parser.add_argument("--policies")
    options = parser.parse_args()
    policies = tuple(options.policies.split(",")) if options.policies else None
    bad = 0
    for stem, module, name, fast, bug in cases(options.only, policies):
        start = time.perf_counter()
        found = outcome(module, name, fast, bug)
        seconds = time.perf_counter() - start
        how = f"{stem} {name} {'fast' if fast else 'full'} {'bug' if bug else 'right'}"
        print(f"{how}: {found[:300]} ({seconds:.1f} s)", flush=True)
        bad += found.split()[0] in ("CRASH", "FALSE", "MISSED", "NOT")
    print(f"{bad} crashes, false alarms and missed or unnamed bugs")


if __name__ == "__main__":
    main()
