"""Drawing a landscape image in text: shades of a cell's value, where cells sit, value labels, the legend, and the
image's rows as runs of equal cells (no widget state)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from tui.widgets.fc_heatmap import HALF, colour, ramp_char

LOWER = "▄"
BEST_MARK = "X"
BAD_MARK = "!"
#: Shades a cell's value is quantized to (colours and styles are then made once per shade, not per cell).
LEVELS = 64


def fmt(v: float) -> str:
    """A value as an axis label: 3 significant digits, or scientific outside 1e-3 … 1e4."""
    v = float(v)
    return f"{v:.3g}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.1e}"


def shade(t: float) -> tuple[int, int, int]:
    """Colour of a cell whose value sits at ``t`` in [0, 1] of the shown range: the lowest (best) red, the highest blue."""
    return colour(1.0 - 2.0 * t)


def shade_char(t: float) -> str:
    """ASCII-ramp character of a cell at ``t``: the best densest ("@"), the worst "." (a blank stays unscored)."""
    return ramp_char(1.0 - 1.7 * t)


_PALETTE: list[Color] = []


def palette() -> list[Color]:
    """The LEVELS colours of the shade ramp, best first (made once)."""
    if not _PALETTE:
        _PALETTE.extend(Color.from_rgb(*shade(i / (LEVELS - 1))) for i in range(LEVELS))
    return _PALETTE


def level(t: np.ndarray) -> np.ndarray:
    """Shade index 0 … LEVELS − 1 of values in [0, 1]; −1 where NaN (blank)."""
    return np.where(np.isnan(t), -1, np.clip(np.round(np.nan_to_num(t) * (LEVELS - 1)), 0, LEVELS - 1)).astype(np.int64)


@dataclass(frozen=True)
class CellLayout:
    """Where the cells sit in the widget: image origin, cell size (columns × pixel rows), pixel rows per text row."""

    left: int
    top: int
    nx: int
    ny: int
    cw: int
    ch: int
    per_row: int  # 2 with half blocks, 1 with the ASCII ramp

    def centre(self, ix: int, iy: int) -> tuple[int, int]:
        """(column, text row) of the middle of cell (ix, iy); iy = 0 is the bottom row of cells."""
        col = self.left + ix * self.cw + (self.cw - 1) // 2
        px = (self.ny - 1 - iy) * self.ch + (self.ch - 1) // 2
        return col, self.top + px // self.per_row

    def cell_at(self, col: int, row: int, half: int = 0) -> tuple[int, int] | None:
        """The cell drawn at a column and text row (``half`` 1: its lower half block), or None outside the image."""
        px = (row - self.top) * self.per_row + half
        ix, k = divmod(col - self.left, self.cw)
        iy = self.ny - 1 - px // self.ch
        if col < self.left or row < self.top or not (0 <= ix < self.nx and 0 <= iy < self.ny):
            return None
        return ix, iy


def y_labels(lay: CellLayout, ys: np.ndarray, rows: int, per_cell: bool) -> dict[int, str]:
    """Text row → value label: each grid cell's own value, or the value at every third row of a scatter."""
    out: dict[int, str] = {}
    if per_cell:
        for iy in range(lay.ny):
            _, row = lay.centre(0, iy)
            out.setdefault(row - lay.top, fmt(ys[iy]))
        return out
    used = min(rows, -(-lay.ny * lay.ch // lay.per_row))
    for r in list(range(used - 1, -1, -3)) + [0]:
        py = r * lay.per_row + (lay.per_row - 1) // 2
        iy = lay.ny - 1 - min(lay.ny - 1, py // lay.ch)
        out[r] = fmt(ys[iy])
    return out

def x_labels(lay: CellLayout, xs: np.ndarray, width: int, per_cell: bool, base: Style) -> list[Segment]:
    """Value labels under the cells' centres, as many as fit without touching."""
    line = [" "] * width
    end = -1
    step = 1 if per_cell else 10
    for ix in range(0, lay.nx, step):
        col, _ = lay.centre(ix, 0)
        s = fmt(xs[ix])
        start = max(col - len(s) // 2, lay.left)
        if start <= end + 1 or start + len(s) > width:
            continue
        line[start:start + len(s)] = list(s)
        end = start + len(s) - 1
    return [Segment("".join(line), base)]

def legend(xname: str, yname: str, lo: float, hi: float, ascii: bool, base: Style,
            grid: bool) -> list[Segment]:
    segs = [Segment(f"→ {xname}  ↑ {yname}   ", base + Style(bold=True))]
    if np.isfinite(lo):
        segs.append(Segment(f"{lo:.4g} ", base))
        for i in range(12):
            t = i / 11
            segs.append(Segment(shade_char(t), base) if ascii else
                        Segment(" ", Style(bgcolor=Color.from_rgb(*shade(t)))))
        segs.append(Segment(f" {hi:.4g}   ", base))
    segs.append(Segment(f"{BEST_MARK} best" + (f"  {BAD_MARK} diverged  blank unscored" if grid
                                               else "  (lowest per cell)"), base + Style(dim=True)))
    return segs


def image_row(key: np.ndarray, label: str, lw: int, per: int, marks: list[tuple[str, Style]], base: Style,
              styles: dict[int, Style]) -> list[Segment]:
    """One text row of the image: its label, then runs of equal cells (``key``: 0 blank, < 0 a mark's −index − 1,
    else the shade code of one cell or, with half blocks, of its top and bottom pixel); ``styles`` caches half-block
    styles by shade pair."""
    segs = [Segment(label.rjust(lw - 1)[: lw - 1] + " ", base)]
    colours = palette()
    bgc = base.bgcolor
    n1 = LEVELS + 1
    cuts = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), len(key)]
    for a, b in zip(cuts, cuts[1:]):
        k = int(key[a])
        if k < 0:
            segs.append(Segment(*marks[-k - 1]))
        elif k == 0:
            segs.append(Segment(" " * (b - a), base))
        elif per == 1:
            segs.append(Segment(shade_char((k - 1) / (LEVELS - 1)) * (b - a), base))
        else:
            cached = styles.get(k)
            top, bot = k // n1 - 1, k % n1 - 1
            if cached is None:
                ct = None if top < 0 else colours[top]
                cb = None if bot < 0 else colours[bot]
                cached = Style(color=cb, bgcolor=bgc) if ct is None else Style(color=ct, bgcolor=cb or bgc)
                styles[k] = cached
            segs.append(Segment((HALF if top >= 0 else LOWER) * (b - a), cached))
    return segs
