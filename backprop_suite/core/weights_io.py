"""The interchange format: the weight dict saved as ``.npz`` with keys m1, b1, m2, b2, …"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from backprop_suite.core.config import TrainConfig
from backprop_suite.core.outputs import replacing
from backprop_suite.core.validation import check_params


def save_params(path: str | os.PathLike, params: Mapping[str, np.ndarray]) -> None:
    """Write the weights to ``path`` (``.npz``, one array per key; the suffix is added when
    missing, as ``np.savez`` adds it), atomically: a file already there stays whole until the new
    one is complete."""
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    with replacing(target) as file:
        np.savez(file, **{key: np.asarray(value) for key, value in params.items()})


ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first entry, or an empty one


def load_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array in an ``.npz`` file of plain (numeric or boolean) arrays; a ``ValueError``
    naming ``what`` and ``path`` for a missing file, a directory, a file that is not an ``.npz``
    archive, or one that holds Python objects. Pickles are never loaded."""
    not_npz = f"{what} file {path} is not an .npz archive of plain arrays"
    try:
        with open(path, "rb") as file:
            start = file.read(6)
    except FileNotFoundError:
        raise ValueError(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{what} file {path} is a directory") from None
    except OSError as error:
        raise ValueError(f"{what} file {path} cannot be read ({error.strerror})") from None
    if start.startswith(b"\x93NUMPY"):
        raise ValueError(f"{what} file {path} holds a single array, not an .npz archive")
    if start[:4] not in ZIP_STARTS:
        raise ValueError(f"{not_npz} (it is not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"{not_npz}: it holds Python objects, which are never loaded"
            ) from None
        raise ValueError(f"{not_npz} (an entry cannot be read as an array)") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError):
        raise ValueError(f"{not_npz} (a damaged zip file)") from None
    kinds = {key: value.dtype for key, value in arrays.items() if value.dtype.kind not in "biuf"}
    if kinds:
        key, dtype = next(iter(kinds.items()))
        raise ValueError(f"{not_npz}: array {key!r} has dtype {dtype}, not numbers")
    return arrays


def load_params(path: str | os.PathLike, cfg: TrainConfig) -> dict[str, np.ndarray]:
    """Read weights saved by ``save_params`` and check them against ``cfg``."""
    return check_params(load_npz(path, "weights"), cfg)
