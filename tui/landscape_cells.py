"""Where candidates land on a landscape: the cells of a Grid run, or bins of a scatter over two parameters."""

from __future__ import annotations

import numpy as np

from engine.config import GRID
from engine.proposers import grid_per_axis


def grid_axes(config) -> list[np.ndarray] | None:
    """The axis values of a Grid run, laid out as ``engine.search.GridProposer`` does; None for other optimizers."""
    if getattr(config, "optimizer", None) != GRID:
        return None
    names = tuple(config.names)
    per_axis = grid_per_axis(len(names), config.budget)
    return [np.linspace(config.bounds[n][0], config.bounds[n][1], per_axis) for n in names]


def nearest(axis: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index of the axis value nearest to each of ``v``."""
    axis = np.asarray(axis, np.float64)
    return np.abs(np.asarray(v, np.float64)[:, None] - axis[None, :]).argmin(axis=1)


def grid_cells(xs: np.ndarray, ys: np.ndarray, values: np.ndarray, q: np.ndarray,
               ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nx, ny) cells holding the lowest ``q`` evaluated at each grid point (NaN: not scored yet), and the cells
    whose only candidates diverged."""
    cells = np.full((len(xs), len(ys)), np.nan)
    bad = np.zeros(cells.shape, bool)
    if len(q):
        ix, iy = nearest(xs, values[:, 0]), nearest(ys, values[:, 1])
        good = ok & np.isfinite(q)
        np.fmin.at(cells, (ix[good], iy[good]), q[good])
        bad[ix[~ok], iy[~ok]] = True
    return cells, bad & np.isnan(cells)


def bin_edges(lo: float, hi: float, n: int) -> np.ndarray:
    """n + 1 edges of n equal bins over [lo, hi]."""
    return np.linspace(lo, hi, n + 1)


def scatter_cells(x: np.ndarray, y: np.ndarray, q: np.ndarray, ok: np.ndarray, xlim: tuple[float, float],
                  ylim: tuple[float, float], nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """(nx, ny) bins over the bounds holding the lowest ``q`` of the points in each (NaN: none), and bins whose
    only points diverged."""
    cells = np.full((nx, ny), np.nan)
    bad = np.zeros((nx, ny), bool)
    if len(q):
        ix = np.clip(((x - xlim[0]) / (xlim[1] - xlim[0]) * nx).astype(int), 0, nx - 1)
        iy = np.clip(((y - ylim[0]) / (ylim[1] - ylim[0]) * ny).astype(int), 0, ny - 1)
        good = ok & np.isfinite(q) & np.isfinite(x) & np.isfinite(y)
        np.fmin.at(cells, (ix[good], iy[good]), q[good])
        bad[ix[~ok], iy[~ok]] = True
    return cells, bad & np.isnan(cells)
