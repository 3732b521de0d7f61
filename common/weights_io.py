"""The interchange format: the weight dict saved as ``.npz`` with keys m1, b1, m2, b2, …"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from common.config import TrainConfig
from common.outputs import replacing
from common.validation import check_params


def save_params(path: str | os.PathLike, params: Mapping[str, np.ndarray]) -> None:
    """Write the weights to ``path`` (``.npz``, one array per key; the suffix is added when
    missing, as ``np.savez`` adds it), atomically: a file already there stays whole until the new
    one is complete."""
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    with replacing(target) as file:
        np.savez(file, **{key: np.asarray(value) for key, value in params.items()})


def load_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array in an ``.npz`` file; ValueError if it is missing or not an npz archive."""
    unreadable = (OSError, EOFError, ValueError, zipfile.BadZipFile)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{what} file {path} is a directory") from None
    except unreadable as error:
        raise ValueError(f"{what} file {path} is not a readable .npz archive: {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{what} file {path} holds a single array, not an .npz archive")
    try:
        with archive:
            return {key: archive[key] for key in archive.files}
    except unreadable as error:
        raise ValueError(f"{what} file {path} is not a readable .npz archive: {error}") from None


def load_params(path: str | os.PathLike, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Read weights saved by ``save_params`` and check them against ``cfg``."""
    return check_params(load_npz(path, "weights"), cfg)
