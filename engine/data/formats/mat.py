"""MATLAB .mat files (v4–v7, through scipy.io.loadmat): Cmat, Dmat, BOLDs or FC, optional TR and labels.

``BOLDs`` is an S × N × T numeric array, an N × T array (one scan) or a cell array of N × T arrays;
``labels`` a cell array of strings or a char matrix (one name per row, trailing blanks dropped); ``TR`` is
in seconds. MATLAB v7.3 files are HDF5, which scipy cannot read: ``engine.data.formats.mat73`` reads them when
h5py is installed and otherwise refuses them with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError
from engine.data.formats import Contents, Format
from engine.text import one_line


def read_mat(path: Path) -> Contents:
    """Read the variables of a .mat file into the msgpack layout."""
    import scipy.io
    from scipy.io.matlab import MatReadError

    if path.stat().st_size == 0:
        raise DataError(f"cannot read {path}: the file is empty")
    try:
        with path.open("rb") as fh:
            major, _minor = scipy.io.matlab.matfile_version(fh)
    except (MatReadError, ValueError, IndexError, OSError) as exc:
        raise DataError(f"cannot read {path}: not a MATLAB .mat file ({one_line(exc)})") from None
    if major == 2:
        from engine.data.formats.mat73 import read_mat73  # lazy: h5py is optional (the mat73 extra)

        raw = read_mat73(path)
    else:
        try:
            raw = scipy.io.loadmat(str(path), simplify_cells=True)
        except (MatReadError, ValueError, TypeError, OSError, EOFError, NotImplementedError) as exc:
            raise DataError(f"cannot read {path}: not a valid .mat file or truncated ({one_line(exc)})") from None
    arrays = {k: _plain(v) for k, v in raw.items() if not k.startswith("__")}
    missing = [k for k in ("Cmat", "Dmat") if k not in arrays]
    if "BOLDs" not in arrays and "FC" not in arrays:
        missing.append("BOLDs (or FC)")
    if missing:
        present = ", ".join(arrays) or "none"
        raise DataError(f"{path}: no variable {' and no '.join(missing)} (variables: {present}); "
                        "a .mat dataset needs Cmat, Dmat and BOLDs (or FC)")
    if "labels" in arrays:
        arrays["labels"] = _labels(arrays["labels"], path)
    return Contents(arrays=arrays)


def _plain(value: Any) -> Any:
    """Sparse matrices as dense arrays, cell arrays as lists (MATLAB's column-major order)."""
    if hasattr(value, "toarray"):
        return value.toarray()
    if isinstance(value, np.ndarray) and value.dtype == object:
        return [_plain(v) for v in value.ravel(order="F")]
    return value


def _labels(value: Any, path: Path) -> list[str]:
    """A cellstr (list or object array) or a char matrix (array of padded strings) as a list of names."""
    if isinstance(value, str):
        return [value.strip()]
    items = value.ravel().tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise DataError(f"{path}: labels must be a cell array of strings or a char matrix")
    return [x.rstrip() for x in items]


FORMATS = (Format(name="mat", label="a MATLAB .mat file", suffixes=(".mat",), read=read_mat),)
