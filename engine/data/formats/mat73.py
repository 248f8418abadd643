"""MATLAB v7.3 .mat files (HDF5), read with h5py when it is installed (it is not a dependency).

MATLAB stores each variable as an HDF5 dataset with its dimensions reversed and a ``MATLAB_class``
attribute; cell arrays hold references to datasets under ``#refs#``; chars are UTF-16 code units; sparse
matrices are groups of ``data``, ``ir`` and ``jc``. Values come back as ``scipy.io.loadmat(simplify_cells=True)``
would give them: arrays in MATLAB's shape, cell arrays as lists, strings as str.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError
from engine.text import one_line


def read_mat73(path: Path) -> dict[str, Any]:
    """The variables of a v7.3 .mat file, or a DataError (one line) when h5py is missing or the file is bad."""
    try:
        import h5py
    except ImportError:
        raise DataError(f"{path}: MATLAB v7.3 (HDF5) files are not supported without h5py (pip install h5py); "
                        "or re-save it in MATLAB with save(FILE, ..., '-v7')") from None
    try:
        with h5py.File(path, "r") as f:
            return {name: _value(f, f[name], path, name) for name in f if not name.startswith("#")}
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"cannot read {path}: not a valid MATLAB v7.3 file or truncated ({one_line(exc)})") from None


def _class(node: Any) -> str:
    cls = node.attrs.get("MATLAB_class", b"")
    return cls.decode() if isinstance(cls, bytes) else str(cls)


def _value(f: Any, node: Any, path: Path, name: str) -> Any:
    """One MATLAB value from its HDF5 node."""
    import h5py

    cls = _class(node)
    if isinstance(node, h5py.Group):
        if "MATLAB_sparse" in node.attrs:
            import scipy.sparse

            rows = int(node.attrs["MATLAB_sparse"])
            jc = np.asarray(node["jc"][()], dtype=np.int64)
            data = node["data"][()] if "data" in node else np.zeros(0)
            ir = node["ir"][()] if "ir" in node else np.zeros(0, dtype=np.int64)
            return scipy.sparse.csc_matrix((data, ir, jc), shape=(rows, len(jc) - 1)).toarray()
        raise DataError(f"{path}: variable {name} is a MATLAB {cls or 'group'}; "
                        "only numeric arrays, cell arrays and strings are read")
    if node.attrs.get("MATLAB_empty", 0):
        return "" if cls == "char" else ([] if cls == "cell" else np.zeros((0, 0)))
    data = np.asarray(node[()]).T  # back to MATLAB's dimension order
    if cls == "cell":
        return [_value(f, f[ref], path, name) for ref in data.ravel(order="F")]
    if cls == "char":
        text = ["".join(chr(c) for c in row).rstrip() for row in np.atleast_2d(data)]
        return text[0] if len(text) == 1 else text
    return data
