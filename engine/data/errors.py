"""What goes wrong with data: the one-line DataError, and the checks a reader of any format shares."""

from __future__ import annotations

from typing import Any

import numpy as np


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
