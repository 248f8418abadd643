"""Group targets: the optional fields a dataset may carry beside Cmat/Dmat/FC — a group's empirical FCD values with
the window and step (in TRs) they were computed with, and each region's hemisphere.

Keys (any reader that gives a map: .npz, .msgpack, .mat): ``fcd_values`` (or ``FCD_values``), a 1-D array of FCD
upper-triangle values (e.g. pooled over a group's scans, as cuBNM stores them), with ``fcd_window_tr`` and
``fcd_step_tr`` (whole TRs, required with them); ``fcd_values_within``, the same group's FCD values with each window
FC restricted to within-hemisphere edges (cuBNM's ``exc-inter`` FCD, scored under ``--edges within``; same window and
step); ``hemisphere`` (N values: 0/1 or L/R).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.edges import EdgeError, check_hemisphere
from engine.data.errors import DataError, as_float_array, check_finite

FCD_KEYS = ("fcd_values", "FCD_values")
FCD_WITHIN_KEYS = ("fcd_values_within", "FCD_values_within")

#: A file name that states an FCD window and step in TRs, e.g. ``fcd_values_train706_window30_step5.npy``.
WINDOW_STEP_NAME = re.compile(r"window(\d+)_step(\d+)", re.IGNORECASE)


def _whole(value: Any, *, path: Path, what: str, least: int) -> int:

    try:
        x = float(np.asarray(value, np.float64).reshape(()))
    except (TypeError, ValueError):
        raise DataError(f"{path}: {what} must be one whole number of TRs, got {value!r}") from None
    if not (np.isfinite(x) and x == int(x) and x >= least):
        raise DataError(f"{path}: {what} must be a whole number of TRs ≥ {least}, got {x:g}")
    return int(x)


def check_fcd_values(values: Any, window: Any, step: Any, *, path: Path) -> dict[str, Any]:
    """Checked group FCD fields (values sorted float64, window and step in TRs); a one-line DataError otherwise."""

    arr = as_float_array(values, path=path, what="fcd_values").reshape(-1)
    if arr.size < 2:
        raise DataError(f"{path}: fcd_values holds {arr.size} values; an FCD distribution needs at least 2")
    check_finite(arr, path=path, what="fcd_values")
    if np.any(np.abs(arr) > 1 + 1e-6):
        raise DataError(f"{path}: fcd_values must be correlations in [-1, 1] (largest |value| {np.abs(arr).max():.4g})")
    if window is None or step is None:
        raise DataError(f"{path}: fcd_values needs fcd_window_tr and fcd_step_tr (the window and step in TRs "
                        "they were computed with)")
    return {"fcd_values": np.sort(arr), "fcd_window_tr": _whole(window, path=path, what="fcd_window_tr", least=2),
            "fcd_step_tr": _whole(step, path=path, what="fcd_step_tr", least=1)}


def read_group_fields(raw: Mapping[str, Any], *, path: Path, n: int) -> dict[str, Any]:
    """The optional group fields of a decoded dataset map (keyword arguments of ``Dataset``)."""

    out: dict[str, Any] = {}
    key = next((k for k in FCD_KEYS if k in raw), None)
    if key is not None:
        out.update(check_fcd_values(raw[key], raw.get("fcd_window_tr"), raw.get("fcd_step_tr"), path=path))
    elif "fcd_window_tr" in raw or "fcd_step_tr" in raw:
        raise DataError(f"{path}: fcd_window_tr/fcd_step_tr given without fcd_values")
    within = next((k for k in FCD_WITHIN_KEYS if k in raw), None)
    if within is not None:
        if key is None:
            raise DataError(f"{path}: {within} given without fcd_values (the all-edge FCD of the same windows)")
        out["fcd_values_within"] = check_fcd_values(raw[within], out["fcd_window_tr"], out["fcd_step_tr"],
                                                    path=path)["fcd_values"]
    if raw.get("hemisphere") is not None:
        try:
            out["hemisphere"] = check_hemisphere(raw["hemisphere"], n, str(path))
        except EdgeError as e:
            raise DataError(str(e)) from None
    return out


def window_step_from_name(name: str) -> tuple[int, int] | None:
    """(window, step) in TRs stated by a file name such as ``…_window30_step5.npy``, or None."""
    m = WINDOW_STEP_NAME.search(name)
    return None if m is None else (int(m.group(1)), int(m.group(2)))
