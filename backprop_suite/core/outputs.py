"""Output paths: checked before any work, written atomically after it.

A script calls ``check_output_file`` or ``check_output_folder`` for every path an option names,
before it trains, so that a bad path costs nothing. The check does what the real write will do
(make the missing folders, create a file beside the target) and then removes all it made. The
writes go through ``replacing``: a temporary file in the target's folder, renamed over the target
only once it is complete, so an interrupted run never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

EXIT_WRITE_FAILED = 3  # the work finished but an output could not be written
_unfinished: list[Writes] = []  # the runs' writes that have not finished yet


def undo_unfinished() -> None:
    """Take away what every unfinished ``Writes`` made (a script interrupted while it wrote)."""
    while _unfinished:
        _unfinished.pop().undo()


def file_mode() -> int:
    """The mode ``open()`` would give a new file (``mkstemp`` gives 0o600): 0o666 less the
    umask, read from /proc where Linux tells it; elsewhere set and restored at once, when a file
    is written, never when this module is imported."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("Umask:"))
        mask = int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0)
        os.umask(mask)
    return 0o666 & ~mask


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _missing_folders(folder: Path) -> list[Path]:
    """The folders from ``folder`` upwards that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _try_writing_in(folder: Path, option: str, path: str) -> None:
    """Make ``folder`` (and its parents), create and write a file in it, then undo all of it."""
    made = _missing_folders(folder)
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = _reason(error)
            raise ValueError(f"{option} {path}: cannot make the folder ({reason})") from None
        try:
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
            try:
                os.write(handle, b"0")
            finally:
                os.close(handle)
                os.unlink(probe)
        except OSError as error:
            raise ValueError(f"{option} {path}: cannot write there ({_reason(error)})") from None
    finally:
        for folder_made in made:
            with suppress(OSError):
                folder_made.rmdir()


def _require_path(path: str | os.PathLike, option: str) -> Path:
    if not str(path):
        raise ValueError(f"{option}: the path is empty")
    return Path(path)


def check_output_file(path: str | os.PathLike, option: str) -> Path:
    """``path`` can be written as a file; ValueError naming ``option`` and the reason if not.
    Leaves nothing behind."""
    target = _require_path(path, option)
    if str(path).endswith(("/", os.sep)) or target.is_dir():
        raise ValueError(f"{option} {path}: names a folder, not a file")
    if target.parent.exists() and not target.parent.is_dir():
        raise ValueError(f"{option} {path}: {target.parent} is a file, not a folder")
    _try_writing_in(target.parent, option, str(path))
    return target


def check_output_folder(path: str | os.PathLike, option: str, files: Iterable[str] = ()) -> Path:
    """``path`` can be made as a folder and the ``files`` named can be written in it; ValueError
    naming ``option`` and the reason if not. Leaves nothing behind."""
    folder = _require_path(path, option)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option} {path}: is a file, not a folder")
    for name in files:
        if (folder / name).is_dir():
            raise ValueError(f"{option} {path}: {folder / name} is a folder, not a file")
    _try_writing_in(folder, option, str(path))
    return folder


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new contents into; renamed over ``path`` when the block
    ends without an exception, removed when it does not."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, file_mode())
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def save_png(fig, path: str | os.PathLike) -> str | os.PathLike:
    """Write the matplotlib figure ``fig`` to ``path`` as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    try:
        with replacing(path) as file:
            fig.savefig(file, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with replacing(path) as file:
        file.write(text.encode("utf-8"))


def _outermost_missing(path: Path) -> Path | None:
    """The outermost of ``path`` and the folders above it that do not exist (what a write of
    ``path`` makes, its missing folders with it); None where ``path`` exists."""
    missing = None
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return missing
        missing = candidate
    return missing


def _entries(folder: Path) -> set[Path]:
    """What ``folder`` holds; nothing where it is no folder one can read."""
    try:
        return set(folder.iterdir()) if folder.is_dir() else set()
    except OSError:
        return set()


class Writes:
    """The outputs of a finished run. A write that fails is kept as one error line instead of
    raised, so the rest are still written and the results can still be shown. Until ``finish``,
    what the writes made is on record: a Ctrl-C among them takes it all away again
    (``undo_unfinished``), so an interrupted run leaves no output, not some of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.made: list[Path] = []  # the files and folders the writes created, in order
        _unfinished.append(self)

    def attempt(self, option: str, path: str | os.PathLike, write: Callable[[], object]) -> bool:
        """Run ``write``; False, and the failure noted, if it raised ``OSError``."""
        target = Path(path)
        new, inside = _outermost_missing(target), _entries(target)
        try:
            write()
        except OSError as error:
            self.failures.append(f"{option} {path}: could not write ({_reason(error)})")
            return False
        finally:
            if new is not None:
                self.made += [new] if new.exists() else []
            else:
                self.made += sorted(_entries(target) - inside)
        return True

    def undo(self) -> None:
        """Remove what the writes made, newest first."""
        for made in reversed(self.made):
            with suppress(OSError):
                if made.is_dir() and not made.is_symlink():
                    shutil.rmtree(made)
                else:
                    made.unlink()
        self.made.clear()

    def finish(self, results_json: Callable[[], str] | None = None) -> int | None:
        """None when every write succeeded. Otherwise print each failure as an ``error:`` line,
        print ``results_json()`` to stdout so the results are not lost, and return
        ``EXIT_WRITE_FAILED``."""
        if self in _unfinished:
            _unfinished.remove(self)
        if not self.failures:
            return None
        for failure in self.failures:
            print(f"error: {failure}", file=sys.stderr)
        if results_json is not None:
            print("error: the results are kept as JSON on stdout", file=sys.stderr)
            print(results_json())
        return EXIT_WRITE_FAILED
