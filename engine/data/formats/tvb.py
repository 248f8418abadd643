"""TVB connectivity: weights.txt, tract_lengths.txt (mm) and optional centres.txt, loose or in a .zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from engine.data.errors import DataError
from engine.data.formats.tables import read_centres, read_matrix
from engine.text import one_line

#: A file's name → a function returning its bytes.
Files = Mapping[str, Callable[[], bytes]]


@dataclass(frozen=True, kw_only=True)
class Structure:
    """Weights and tract lengths (N×N, as read) and the labels from centres.txt, with where they came from."""

    weights: np.ndarray
    lengths: np.ndarray
    labels: tuple[str, ...] | None
    labels_from: str | None
    where: str


def zip_members(path: str, data: bytes) -> Files:
    """The files of a zip archive (its bytes) by base name (folders, hidden files and ``__MACOSX`` skipped)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a valid .zip archive ({one_line(exc)})") from None
    members: dict[str, Callable[[], bytes]] = {}
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue
        name = parts[-1]
        if name in members:
            raise DataError(f"{path}: the archive holds two files named {name!r}")
        members[name] = _reader(archive, info, path)
    return members


def _reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise DataError(f"{path}: cannot read {info.filename} from the archive ({one_line(exc)})") from None
    return read


def read_structure(files: Files, where: str, prefix: str) -> Structure:
    """Weights, tract lengths and centres' labels from TVB-named files (``prefix`` + name in messages)."""
    missing = [n for n in ("weights.txt", "tract_lengths.txt") if n not in files]
    if missing:
        present = ", ".join(sorted(files)[:12]) or "no files"
        raise DataError(f"{where}: a TVB connectivity needs weights.txt and tract_lengths.txt; "
                        f"{' and '.join(missing)} missing (it holds: {present})")
    weights = read_matrix(files["weights.txt"](), prefix + "weights.txt", delimiter=None)
    lengths = read_matrix(files["tract_lengths.txt"](), prefix + "tract_lengths.txt", delimiter=None)
    labels = None
    if "centres.txt" in files:
        labels = read_centres(files["centres.txt"](), prefix + "centres.txt")
        if len(labels) != weights.shape[0]:
            raise DataError(f"{prefix}centres.txt: {len(labels)} regions but weights.txt has {weights.shape[0]} rows")
    return Structure(weights=weights, lengths=lengths, labels=labels,
                     labels_from=prefix + "centres.txt" if labels else None, where=where)


def looks_like_connectivity(files: Files) -> bool:
    """Whether these files hold a TVB connectivity (weights.txt)."""
    return "weights.txt" in files
