"""NumPy .npz archives: one array per key of the dataset's layout (object arrays, i.e. pickles, are refused)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError
from engine.data.formats import Contents, Format
from engine.text import one_line


def read_npz(path: Path) -> dict[str, Any]:
    """Read every array of a .npz file (no pickles); a DataError when it cannot."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not hasattr(npz, "files"):
                raise DataError(f"cannot read {path}: not an .npz archive")
            return {key: npz[key] for key in npz.files}
    except DataError:
        raise
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DataError(
            f"cannot read {path}: not a valid .npz file or truncated ({one_line(exc)})"
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {one_line(exc)}") from None


FORMATS = (Format(name="npz", label="an .npz file", suffixes=(".npz",), read=lambda path: Contents(arrays=read_npz(path))),)
