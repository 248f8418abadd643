"""A cohort's per-scan fields: which subject each scan belongs to, and each scan's own structure.

A data file with BOLD scans may carry ``subjects`` (one id per scan: a study's ``--per subject`` groups scans by it)
and ``Cmats`` / ``Dmats`` (one N×N matrix per scan, in the order of ``BOLDs``: the structure of the scan's subject).
A study then fits each subject on its own structure; a fit of the whole file uses the group's ``Cmat`` and ``Dmat``.
Each check returns the checked value or raises a one-line ``DataError`` naming the file and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError, as_float_array, check_finite

#: The keys of the per-scan structure and what each holds.
STRUCTURE_KEYS = {"Cmats": "weights", "Dmats": "lengths"}


def check_subjects(value: Any, *, path: Path, n_scans: int) -> tuple[str, ...] | None:
    """The subject id of each scan (``n_scans`` strings), or None when the file has none."""
    if value is None:
        return None
    if n_scans == 0:
        raise DataError(f"{path}: subjects names the subject of each scan, but the file has no BOLD scans")
    ids = np.asarray(value).ravel().tolist() if not isinstance(value, (str, bytes)) else None
    if ids is None:
        raise DataError(f"{path}: subjects must be a list of {n_scans} ids, one per scan")
    out = tuple(v.decode() if isinstance(v, bytes) else str(v) for v in ids)
    if len(out) != n_scans:
        raise DataError(f"{path}: subjects has {len(out)} ids for {n_scans} scans (one id per scan)")
    if any(not s.strip() for s in out):
        raise DataError(f"{path}: subjects has an empty id")
    return out


def check_scan_structure(raw: Mapping[str, Any], *, path: Path, n: int, n_scans: int
                         ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each scan's Cmat and Dmat ((n_scans, N, N) float64, diagonals zeroed; None where the file has none)."""
    out: dict[str, np.ndarray | None] = {"Cmats": None, "Dmats": None}
    for key in STRUCTURE_KEYS:
        if key not in raw:
            continue
        if n_scans == 0:
            raise DataError(f"{path}: {key} gives each scan its structure, but the file has no BOLD scans")
        arr = as_float_array(raw[key], path=path, what=key)
        if arr.shape != (n_scans, n, n):
            raise DataError(f"{path}: {key} must be {n_scans}×{n}×{n} (one {n}×{n} matrix of {STRUCTURE_KEYS[key]} "
                            f"per scan, in the order of BOLDs), got shape {arr.shape}")
        check_finite(arr, path=path, what=key)
        if np.any(arr < 0):
            raise DataError(f"{path}: {key} has {int((arr < 0).sum())} negative {STRUCTURE_KEYS[key]} "
                            f"(min {arr.min():.4g})")
        idx = np.arange(n)
        arr[:, idx, idx] = 0.0
        out[key] = arr
    return out["Cmats"], out["Dmats"]


def scans_structure(cmats: np.ndarray | None, dmats: np.ndarray | None, scans: tuple[int, ...], *,
                    who: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The one Cmat and Dmat the scans ``scans`` share (None where the data gives none), or a one-line DataError."""
    picked: list[np.ndarray | None] = []
    for name, arr in (("Cmats", cmats), ("Dmats", dmats)):
        if arr is None:
            picked.append(None)
            continue
        first = arr[scans[0]]
        if any(not np.array_equal(first, arr[i]) for i in scans[1:]):
            raise DataError(f"{who}'s scans carry different {name}: a subject has one structure")
        picked.append(first.copy())
    return picked[0], picked[1]
