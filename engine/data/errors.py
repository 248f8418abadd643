"""What goes wrong with data: the one-line DataError, and the checks a reader of any format shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.text import one_line


class DataError(ValueError):
    """A dataset that cannot be used; the message is one line meant for the user."""


def check_tr(value: Any, what: str) -> float:
    """A repetition time in seconds: a finite number > 0, or a one-line DataError naming ``what``."""
    try:
        tr = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise DataError(f"{what}: TR must be one number of seconds, got {value!r}") from None
    if not (np.isfinite(tr) and tr > 0):
        raise DataError(f"{what}: TR must be a positive number of seconds, got {tr:g}")
    if tr > 100:
        raise DataError(f"{what}: TR of {tr:g} s is implausible; TR is given in seconds (e.g. 0.72)")
    return tr


def as_float_array(value: Any, *, path: Path, what: str) -> np.ndarray:
    """Convert a stored value to a float64 array, or fail naming it."""
    if isinstance(value, (dict, str, bytes)) or value is None:
        raise DataError(f"{path}: {what} is not a numeric array (got {type(value).__name__})")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: {what} is not a numeric array ({one_line(exc)})") from None
    return arr


def check_finite(arr: np.ndarray, *, path: Path, what: str) -> None:
    """Reject NaN or inf, naming the array."""
    if not np.all(np.isfinite(arr)):
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise DataError(f"{path}: {what} contains {n_nan} NaN and {n_inf} inf values")
