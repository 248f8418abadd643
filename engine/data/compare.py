"""Comparing connectivity matrices: their upper triangles and the Pearson correlation between them."""

from __future__ import annotations

import math

import numpy as np

Edges = tuple[np.ndarray, np.ndarray]


def upper(m: np.ndarray, edges: Edges | None = None) -> np.ndarray:
    """The upper triangle of a square matrix without its diagonal (or the ``edges`` (rows, cols)), as float64."""
    a = np.asarray(m, np.float64)
    return a[np.triu_indices(a.shape[0], k=1) if edges is None else edges]


def matrix_corr(a: np.ndarray, b: np.ndarray, edges: Edges | None = None) -> float:
    """Pearson r of two square matrices' upper triangles (or ``edges``) over the pairs finite in both; NaN when it
    is undefined (other shapes, fewer than two such pairs, or one side constant)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or a.shape != b.shape or a.shape[0] != a.shape[1]:
        return math.nan
    x, y = upper(a, edges), upper(b, edges)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return math.nan if den == 0.0 or not math.isfinite(den) else float((x * y).sum() / den)
