"""The loss landscape: a Grid run's cells filled as batches arrive, a scatter of any two fitted parameters
coloured by loss, or a line over one parameter; any objective term instead of the loss."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui.baseline import draw_nulls, fc_like
from tui.history import History
from tui.landscape_cells import grid_cells, scatter_cells
from tui.widgets.fc_heatmap import HALF, colour, ramp_char, wants_ascii
from tui.widgets.loss_plot import BEST, POINTS, thin
from tui.widgets.plotting import QuantityAndBaseline, as_text, figure

LOWER = "▄"
BEST_MARK = "X"
BAD_MARK = "!"
#: Most columns a grid cell is wide per half-row of height (keeps a small grid from being drawn as stripes).
MAX_ASPECT = 1.5
#: Drawing takes at most 1/DUTY of the time while data stream in (redraws wait DUTY × the last drawing's time).
DUTY = 5
#: Shades a cell's value is quantized to (colours and styles are then made once per shade, not per cell).
LEVELS = 64


def _fmt(v: float) -> str:
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


class Landscape(QuantityAndBaseline, Widget):
    """The landscape of the current run; ``quantity`` is "loss" or an objective term, ``pair`` the two parameters."""

    DEFAULT_CSS = "Landscape { height: 1fr; width: 1fr; }"

    def __init__(self, *, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.force_ascii = ascii
        self.history = History()
        self.bounds: dict[str, tuple[float, float]] = {}
        self.axes: list[np.ndarray] | None = None
        self.pair = (0, 1)
        self.cell_layout: CellLayout | None = None  # of the last drawn image (tests)
        self.x_label_row = 0  # the text row of the x-axis labels in the last drawing
        self._version = 0
        self._cache_key: tuple | None = None
        self._lines: list[Strip] = []
        self._styles: dict[int, Style] = {}  # half-block styles by shade pair, kept between draws
        self._styles_bg: Color | None = None
        self._draw_s, self._drawn_at, self._later = 0.0, 0.0, False

    # -- data -------------------------------------------------------------------------------
    def reset(self, names: tuple[str, ...] = (), bounds: Mapping[str, tuple[float, float]] | None = None,
              axes: list[np.ndarray] | None = None) -> None:
        """Forget all points; a run over ``names`` within ``bounds``; ``axes`` are a Grid run's axis values."""
        self.history = History(tuple(names))
        self.bounds = {k: (float(v[0]), float(v[1])) for k, v in dict(bounds or {}).items()}
        self.axes = None if axes is None else [np.asarray(a, np.float64) for a in axes]
        self.pair = (0, 1)
        self._touch()

    def add_batch(self, first: int, values: np.ndarray, losses: np.ndarray, flags: tuple[str, ...] = (),
                  terms: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one evaluated batch (``terms``: per-candidate objective terms, when the event carries them)."""
        self.history.add(first, values, losses, flags, terms)  # its version marks new data
        self.refresh()

    def cycle_pair(self) -> str:
        """Next pair of fitted parameters for the scatter (more than two fitted); returns "x × y"."""
        p = len(self.history.names)
        if p > 2:
            pairs = [(i, j) for i in range(p) for j in range(i + 1, p)]
            self.pair = pairs[(pairs.index(self.pair) + 1) % len(pairs)] if self.pair in pairs else pairs[0]
            self._touch()
        names = self.history.names
        return " × ".join(names[i] for i in self.pair if i < len(names))

    @property
    def mode(self) -> str:
        """"empty", "line" (one parameter), "grid" (a Grid run over two) or "scatter"."""
        p = len(self.history.names)
        if p == 0:
            return "empty"
        if p == 1:
            return "line"
        return "grid" if self.axes is not None and p == 2 else "scatter"

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A Grid run's axes and its (nx, ny) cells of the shown quantity (NaN: not scored) and diverged cells."""
        assert self.axes is not None
        h = self.history
        xs, ys = self.axes
        cells, bad = grid_cells(xs, ys, h.values, h.quantity(self.shown), h.ok)
        return xs, ys, cells, bad

    def _touch(self) -> None:
        self._version += 1
        self.refresh()

    @property
    def drawn_current(self) -> bool:
        """Whether the last drawing shows the current data and size, with no deferred redraw pending (tests wait on it)."""
        key = self._cache_key
        return not self._later and key is not None and key[:4] == (self.size.width, self.size.height, self._version,
                                                                    self.history.version)

    @property
    def use_ascii(self) -> bool:
        """Whether to draw with the ASCII ramp instead of coloured half blocks."""
        return wants_ascii(self.app, self.force_ascii)

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height, self._version, self.history.version, self.use_ascii,
               self.app.no_color)
        if key != self._cache_key:
            old = self._cache_key
            wait = DUTY * self._draw_s - (time.monotonic() - self._drawn_at)
            if old is not None and key[:3] + key[4:] == old[:3] + old[4:] and wait > 0:
                # only new data, and the last drawing was recent: show it a moment longer (a big scatter takes
                # tens of ms to draw; batches may arrive every 50 ms and the UI must stay responsive)
                if not self._later:
                    self._later = True
                    self.set_timer(wait, self._redraw)
            else:
                t = time.perf_counter()
                self._lines = self._draw(self.size.width, self.size.height, self.use_ascii)
                self._draw_s, self._drawn_at = time.perf_counter() - t, time.monotonic()
                self._cache_key = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width, self.rich_style)

    def _redraw(self) -> None:
        self._later = False
        self.refresh()

    def _text_lines(self, text: Text, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        lines = self.app.console.render_lines(text, self.app.console.options.update(width=width, height=height),
                                              style=base, pad=True)
        strips = [Strip(segs).adjust_cell_length(width, base) for segs in lines[:height]]
        return strips + [Strip.blank(width, base)] * (height - len(strips))

    def _message(self, msg: str, width: int, height: int) -> list[Strip]:
        return self._text_lines(Text(msg, style="dim"), width, height)

    def _draw(self, width: int, height: int, ascii: bool) -> list[Strip]:
        self.cell_layout = None
        if width < 24 or height < 7:
            return self._message("(panel too small for the landscape)", width, height)
        mode, h = self.mode, self.history
        if mode == "empty" or not len(h):
            return self._message("Landscape — no candidates yet. A Grid over two parameters fills a heatmap of the "
                                 "loss as batches arrive; other optimizers show their points over two parameters; "
                                 "one parameter gives a line.", width, height)
        if mode == "line":
            return self._text_lines(self._line_plot(width, height), width, height)
        return self._heatmap(width, height, ascii, mode)

    def _title(self, kind: str, best: str, width: int) -> str:
        hints = (" · ^T term" if len(self.history.quantities) > 1 else "") + \
            (" · F8 pair" if len(self.history.names) > 2 else "")
        q = self.shown
        for t in (f"{q} landscape · {kind} · {best}{hints}", f"{q} · {kind} · {best}", f"{q} · {best}", best):
            if len(t) <= width:
                return t
        return best[:width]

    def _heatmap(self, width: int, height: int, ascii: bool, mode: str) -> list[Strip]:
        base = self.rich_style
        h = self.history
        names = h.names
        xi, yi = self.pair
        xname, yname = names[xi], names[yi]
        per = 1 if ascii else 2
        rows = height - 3  # title, x tick labels, legend
        q, ok, vals = h.quantity(self.shown), h.ok, h.values
        if mode == "grid":
            xs, ys = self.axes  # type: ignore[misc]
            ylabels = [_fmt(v) for v in ys]
        else:
            xlim, ylim = self._limits(xi), self._limits(yi)
            ylabels = [_fmt(ylim[0]), _fmt(ylim[1]), _fmt((ylim[0] + ylim[1]) / 2)]
        lw = min(9, max(len(s) for s in ylabels) + 1)
        img_w, img_px = width - lw - 1, rows * per
        fits = mode == "grid" and len(xs) <= img_w and len(ys) <= img_px
        if fits:
            nx, ny = len(xs), len(ys)
            ch = max(1, img_px // ny)
            ch -= ch % per if ch >= per else 0  # whole text rows per cell: the marks sit inside one cell
            cw = max(1, min(img_w // nx, int(MAX_ASPECT * ch * (2 // per))))
            cells, bad = grid_cells(xs, ys, vals[:, [xi, yi]], q, ok)
            kind = f"grid {nx}×{ny}"
        else:  # a scatter, binned to pixels (also a Grid too dense for the panel)
            nx, ny, cw, ch = img_w, img_px, 1, 1
            xlim, ylim = self._limits(xi), self._limits(yi)
            cells, bad = scatter_cells(vals[:, xi], vals[:, yi], q, ok, xlim, ylim, nx, ny)
            bad[:] = False  # one pixel per point: a mark would hide its neighbours
            xs = xlim[0] + (np.arange(nx) + 0.5) / nx * (xlim[1] - xlim[0])
            ys = ylim[0] + (np.arange(ny) + 0.5) / ny * (ylim[1] - ylim[0])
            kind = f"{int(ok.sum())} points" if mode == "scatter" else "grid binned to the panel"
        lay = CellLayout(left=lw, top=1, nx=nx, ny=ny, cw=cw, ch=ch, per_row=per)
        self.cell_layout = lay
        scored = int(np.isfinite(cells).sum())
        if scored:
            lo, hi = float(np.nanmin(cells)), float(np.nanmax(cells))
            t = (cells - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(cells), 0.0, np.nan)
            bi = np.unravel_index(int(np.nanargmin(cells)), cells.shape)
            best = f"best {lo:.4g} at {xname}={_fmt(xs[bi[0]])} {yname}={_fmt(ys[bi[1]])}"
            if mode == "grid" and fits:
                best = f"{scored}/{nx * ny} scored · " + best
        else:
            lo = hi = float("nan")
            t = cells
            bi = None
            best = f"no {self.shown} values yet"
        # pixels, top row first: cell (ix, iy) covers columns ix·cw… and pixel rows (ny−1−iy)·ch…
        pix = np.repeat(np.repeat(t[:, ::-1].T, ch, axis=0), cw, axis=1)
        if pix.shape[0] % per:
            pix = np.vstack([pix, np.full((1, pix.shape[1]), np.nan)])
        marks: dict[tuple[int, int], tuple[str, Style]] = {}
        for ix, iy in zip(*np.nonzero(bad)):
            marks[lay.centre(int(ix), int(iy))] = (BAD_MARK, base + Style(color="yellow", bold=True))
        if bi is not None:
            col, row = lay.centre(int(bi[0]), int(bi[1]))
            bg = None if ascii else Color.from_rgb(*shade(0.0))
            marks[(col, row)] = (BEST_MARK, Style(color="black" if not ascii else None, bgcolor=bg, bold=True)
                                 if not ascii else base + Style(bold=True, reverse=True))
        lines: list[list[Segment]] = [[] for _ in range(height)]
        lines[0] = [Segment(self._title(kind, best, width), base + Style(bold=True))]
        ylab = self._y_labels(lay, ys, rows, mode == "grid" and fits)
        # quantized pixels (−1: blank), padded to whole text rows; each row is drawn as runs of equal cells
        q8 = level(pix)
        q8 = np.vstack([q8, np.full((max(0, rows * per - q8.shape[0]), q8.shape[1]), -1)])[: rows * per]
        mark_list = list(marks.items())
        colours = palette()
        bgc = base.bgcolor
        styles = self._styles if self._styles_bg == bgc else {}
        self._styles, self._styles_bg = styles, bgc
        n1 = LEVELS + 1
        for r in range(rows):
            key = q8[r] + 1 if per == 1 else (q8[2 * r] + 1) * n1 + (q8[2 * r + 1] + 1)
            key = key.copy()
            for m, ((col, row), _) in enumerate(mark_list):
                if row == 1 + r and 0 <= col - lw < len(key):
                    key[col - lw] = -(m + 1)
            segs = [Segment(ylab.get(r, "").rjust(lw - 1)[: lw - 1] + " ", base)]
            cuts = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), len(key)]
            for a, b in zip(cuts, cuts[1:]):
                k = int(key[a])
                if k < 0:
                    ch_, st = mark_list[-k - 1][1]
                    segs.append(Segment(ch_, st))
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
            lines[1 + r] = segs
        xrow = min(height - 2, 1 + -(-ny * ch // per))  # right under the image
        lines[xrow] = self._x_labels(lay, xs, width, mode == "grid" and fits, base)
        lines[xrow + 1] = self._legend(xname, yname, lo, hi, ascii, base, mode == "grid" and fits)
        self.x_label_row = xrow
        image_len = lw + nx * cw  # image rows: every segment is one cell per character
        return [(Strip(segs, image_len) if 1 <= i <= rows and i not in (xrow, xrow + 1) else Strip(segs))
                .adjust_cell_length(width, base)
                for i, segs in enumerate(lines)]

    def _limits(self, j: int) -> tuple[float, float]:
        """A parameter's bounds, else the range of its evaluated values (widened when they are all equal)."""
        name = self.history.names[j]
        if name in self.bounds:
            return self.bounds[name]
        v = self.history.values[:, j]
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    @staticmethod
    def _y_labels(lay: CellLayout, ys: np.ndarray, rows: int, per_cell: bool) -> dict[int, str]:
        """Text row → value label: each grid cell's own value, or the value at every third row of a scatter."""
        out: dict[int, str] = {}
        if per_cell:
            for iy in range(lay.ny):
                _, row = lay.centre(0, iy)
                out.setdefault(row - lay.top, _fmt(ys[iy]))
            return out
        used = min(rows, -(-lay.ny * lay.ch // lay.per_row))
        for r in list(range(used - 1, -1, -3)) + [0]:
            py = r * lay.per_row + (lay.per_row - 1) // 2
            iy = lay.ny - 1 - min(lay.ny - 1, py // lay.ch)
            out[r] = _fmt(ys[iy])
        return out

    @staticmethod
    def _x_labels(lay: CellLayout, xs: np.ndarray, width: int, per_cell: bool, base: Style) -> list[Segment]:
        """Value labels under the cells' centres, as many as fit without touching."""
        line = [" "] * width
        end = -1
        step = 1 if per_cell else 10
        for ix in range(0, lay.nx, step):
            col, _ = lay.centre(ix, 0)
            s = _fmt(xs[ix])
            start = max(col - len(s) // 2, lay.left)
            if start <= end + 1 or start + len(s) > width:
                continue
            line[start:start + len(s)] = list(s)
            end = start + len(s) - 1
        return [Segment("".join(line), base)]

    def _legend(self, xname: str, yname: str, lo: float, hi: float, ascii: bool, base: Style,
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

    def _line_plot(self, w: int, h: int) -> Text:
        import plotext as plt  # lazy: plotext loads with the first plot, keeping start-up fast

        hist = self.history
        q, ok = hist.quantity(self.shown), hist.ok
        good = ok & np.isfinite(q)
        x, y = hist.values[good, 0], q[good]
        name = hist.names[0]
        if not len(y):
            return Text(f"{self.shown} over {name}: no values yet", style="dim")
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        keep = thin(len(y))
        fig = figure(w, h, self.app.no_color, legend=False)
        pts = fig.signal(x[keep].tolist(), y[keep].tolist(), marker=plt.marker("braille", POINTS))
        if self.axes is not None:
            pts.lines(True)  # a Grid: the scan as a line through its points
        fig.draw(pts)
        i = int(np.argmin(y))
        fig.draw(fig.signal([float(x[i])], [float(y[i])], marker=plt.marker("X", BEST)))
        if fc_like(self.shown, hist.term_names, self.loss_is_fc):
            draw_nulls(fig, self.baseline, self.map_null, float(x[-1]))
        kind = "grid" if self.axes is not None else "points"
        fig.title(self._title(f"{kind} over {name}", f"best {y[i]:.4g} at {name}={_fmt(x[i])}", w - 2))
        fig.label(name, axis="x")
        return as_text(fig, self.app.no_color)

