"""Checks of a data file's decoded arrays, whatever its format: square matrices, BOLD scans, TR and labels.

Each returns the checked value or raises a one-line ``DataError`` naming the file and what is wrong;
``engine.data.dataset`` assembles a ``Dataset`` from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError, as_float_array, check_finite, check_tr

#: The fewest time points a scan may have (an FC needs a few).
MIN_TIMEPOINTS = 3


def square_matrix(value: Any, *, path: Path, what: str) -> np.ndarray:
    """A finite, 2-D, square float64 matrix."""
    arr = as_float_array(value, path=path, what=what)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise DataError(f"{path}: {what} must be a 2-D square matrix, got shape {arr.shape}")
    check_finite(arr, path=path, what=what)
    return arr


def bold_scans(value: Any, *, path: Path) -> list[Any]:
    """Normalise BOLDs (list, stacked S×N×T, one N×T, or dict '0','1',…) to a list of scans."""
    if isinstance(value, dict):
        try:
            keyed = sorted(((int(str(k)), v) for k, v in value.items()), key=lambda kv: kv[0])
        except ValueError:
            keys = ", ".join(repr(k) for k in list(value)[:8])
            raise DataError(
                f"{path}: BOLDs is a map whose keys are not scan numbers '0','1',… (keys: {keys})"
            ) from None
        return [v for _, v in keyed]
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0 or value.dtype.kind not in "biuf":
            raise DataError(
                f"{path}: BOLDs is not an array or a list of arrays "
                f"(got a {value.ndim}-D {value.dtype} array)"
            )
        if value.ndim == 3:
            return list(value)
        if value.ndim == 2:
            return [value]
        raise DataError(
            f"{path}: BOLDs must be N×T (one scan), S×N×T or a list of N×T arrays, "
            f"got an array of shape {value.shape}"
        )
    raise DataError(f"{path}: BOLDs is not an array or a list of arrays (got {type(value).__name__})")


def scan_what(k: int, names: tuple[str, ...]) -> str:
    """'BOLD scan k', with the scan's file name when it came from its own file."""
    return f"BOLD scan {k} ({names[k]})" if k < len(names) else f"BOLD scan {k}"


def check_bolds(value: Any, *, path: Path, n: int, names: tuple[str, ...] = ()) -> tuple[list[np.ndarray], int]:
    """Checked BOLD scans (each N×T float64) and the shortest scan length."""
    raw_scans = bold_scans(value, path=path)
    if not raw_scans:
        raise DataError(f"{path}: BOLDs contains no scans")
    scans: list[np.ndarray] = []
    for k, raw in enumerate(raw_scans):
        what = scan_what(k, names)
        arr = as_float_array(raw, path=path, what=what)
        if arr.ndim != 2:
            raise DataError(
                f"{path}: {what} must be a 2-D regions × time array, got shape {arr.shape}"
            )
        if scans and arr.shape[0] != scans[0].shape[0]:
            raise DataError(
                f"{path}: BOLD scans have different numbers of regions "
                f"(scan 0 has {scans[0].shape[0]}, scan {k} has {arr.shape[0]})"
            )
        scans.append(arr)
    rows = scans[0].shape[0]
    if rows != n:
        hint = (
            "; it looks transposed — BOLDs must be regions × time"
            if scans[0].shape[1] == n
            else ""
        )
        raise DataError(
            f"{path}: BOLD has {rows} regions (rows) but Cmat is {n}×{n}{hint}"
        )
    for k, arr in enumerate(scans):
        what = scan_what(k, names)
        check_finite(arr, path=path, what=what)
        t = arr.shape[1]
        if t < MIN_TIMEPOINTS:
            raise DataError(
                f"{path}: {what} has {t} time points; at least {MIN_TIMEPOINTS} are needed for FC"
            )
        constant = np.flatnonzero(np.all(arr == arr[:, :1], axis=1))
        if constant.size:
            more = f" (and {constant.size - 1} more)" if constant.size > 1 else ""
            raise DataError(
                f"{path}: region {int(constant[0])}{more} is constant (zero variance) in {what}; "
                "its FC is undefined"
            )
    return scans, min(a.shape[1] for a in scans)


def check_tr_field(value: Any, *, path: Path) -> float | None:
    """The dataset's TR in seconds, or None when it has none."""
    return None if value is None else check_tr(value, str(path))


def check_labels(value: Any, *, path: Path, n: int) -> tuple[str, ...] | None:
    """Region labels (N strings), or None when the dataset has none."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        value = [value[k] for k in sorted(value, key=lambda k: int(k))]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise DataError(f"{path}: labels must be a list of {n} region names")
    labels = tuple(v.decode() if isinstance(v, bytes) else str(v) for v in value)
    if len(labels) != n:
        raise DataError(f"{path}: labels has {len(labels)} names but Cmat is {n}×{n}")
    return labels
