"""The loss landscape: a Grid run's cells filled as batches arrive, a scatter of any two fitted parameters
coloured by loss, or a line over one parameter; any objective term instead of the loss."""

from __future__ import annotations

import time
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
from tui.widgets.fc_heatmap import wants_ascii
from tui.widgets.landscape_image import (
    BAD_MARK,
    BEST_MARK,
    LEVELS,
    CellLayout,
    fmt,
    image_row,
    legend,
    level,
    shade,
    shade_char,
    x_labels,
    y_labels,
)
from tui.widgets.loss_plot import BEST, POINTS, thin
from tui.widgets.plotting import QuantityAndBaseline, as_text, figure

#: Most columns a grid cell is wide per half-row of height (keeps a small grid from being drawn as stripes).
MAX_ASPECT = 1.5
#: Drawing takes at most 1/DUTY of the time while data stream in (redraws wait DUTY × the last drawing's time).
DUTY = 5

__all__ = ["BAD_MARK", "BEST_MARK", "LEVELS", "DUTY", "Landscape", "shade", "shade_char"]

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
        names = self.history.names
        xi, yi = self.pair
        per = 1 if ascii else 2
        rows = height - 3  # title, x tick labels, legend
        lay, xs, ys, cells, bad, kind, per_cell = self._cells(width, rows, per, mode)
        self.cell_layout = lay
        scored = int(np.isfinite(cells).sum())
        if scored:
            lo, hi = float(np.nanmin(cells)), float(np.nanmax(cells))
            t = (cells - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(cells), 0.0, np.nan)
            bi = np.unravel_index(int(np.nanargmin(cells)), cells.shape)
            best = f"best {lo:.4g} at {names[xi]}={fmt(xs[bi[0]])} {names[yi]}={fmt(ys[bi[1]])}"
            if per_cell:
                best = f"{scored}/{lay.nx * lay.ny} scored · " + best
        else:
            lo = hi = float("nan")
            t, bi = cells, None
            best = f"no {self.shown} values yet"
        lines: list[list[Segment]] = [[] for _ in range(height)]
        lines[0] = [Segment(self._title(kind, best, width), base + Style(bold=True))]
        ylab = y_labels(lay, ys, rows, per_cell)
        marks = self._marks(lay, bad, bi, ascii, base)
        if self._styles_bg != base.bgcolor:
            self._styles, self._styles_bg = {}, base.bgcolor
        for r, key in enumerate(self._row_keys(lay, t, rows, marks)):
            lines[1 + r] = image_row(key, ylab.get(r, ""), lay.left, per, [m for _, m in marks], base, self._styles)
        xrow = min(height - 2, 1 + -(-lay.ny * lay.ch // per))  # right under the image
        lines[xrow] = x_labels(lay, xs, width, per_cell, base)
        lines[xrow + 1] = legend(names[xi], names[yi], lo, hi, ascii, base, per_cell)
        self.x_label_row = xrow
        image_len = lay.left + lay.nx * lay.cw  # image rows: every segment is one cell per character
        return [(Strip(segs, image_len) if 1 <= i <= rows and i not in (xrow, xrow + 1) else Strip(segs))
                .adjust_cell_length(width, base)
                for i, segs in enumerate(lines)]

    def _cells(self, width: int, rows: int, per: int, mode: str
               ) -> tuple[CellLayout, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str, bool]:
        """The layout, axis values, cells (nx, ny) of the shown quantity and diverged cells, the title's kind and
        whether each grid point has a cell of its own (else points are binned to pixels)."""
        h = self.history
        xi, yi = self.pair
        q, ok, vals = h.quantity(self.shown), h.ok, h.values
        if mode == "grid":
            xs, ys = self.axes  # type: ignore[misc]
            ylabels = [fmt(v) for v in ys]
        else:
            ylim = self._limits(yi)
            ylabels = [fmt(ylim[0]), fmt(ylim[1]), fmt((ylim[0] + ylim[1]) / 2)]
        lw = min(9, max(len(s) for s in ylabels) + 1)
        img_w, img_px = width - lw - 1, rows * per
        if mode == "grid" and len(xs) <= img_w and len(ys) <= img_px:
            nx, ny = len(xs), len(ys)
            ch = max(1, img_px // ny)
            ch -= ch % per if ch >= per else 0  # whole text rows per cell: the marks sit inside one cell
            cw = max(1, min(img_w // nx, int(MAX_ASPECT * ch * (2 // per))))
            cells, bad = grid_cells(xs, ys, vals[:, [xi, yi]], q, ok)
            return (CellLayout(left=lw, top=1, nx=nx, ny=ny, cw=cw, ch=ch, per_row=per), xs, ys, cells, bad,
                    f"grid {nx}×{ny}", True)
        # a scatter, binned to pixels (also a Grid too dense for the panel)
        nx, ny = img_w, img_px
        xlim, ylim = self._limits(xi), self._limits(yi)
        cells, bad = scatter_cells(vals[:, xi], vals[:, yi], q, ok, xlim, ylim, nx, ny)
        bad[:] = False  # one pixel per point: a mark would hide its neighbours
        xs = xlim[0] + (np.arange(nx) + 0.5) / nx * (xlim[1] - xlim[0])
        ys = ylim[0] + (np.arange(ny) + 0.5) / ny * (ylim[1] - ylim[0])
        kind = f"{int(ok.sum())} points" if mode == "scatter" else "grid binned to the panel"
        return CellLayout(left=lw, top=1, nx=nx, ny=ny, cw=1, ch=1, per_row=per), xs, ys, cells, bad, kind, False

    @staticmethod
    def _marks(lay: CellLayout, bad: np.ndarray, bi: tuple | None, ascii: bool,
               base: Style) -> list[tuple[tuple[int, int], tuple[str, Style]]]:
        """(column, row) → (character, style) of the diverged cells' marks and the best cell's mark (drawn last)."""
        marks: dict[tuple[int, int], tuple[str, Style]] = {}
        for ix, iy in zip(*np.nonzero(bad)):
            marks[lay.centre(int(ix), int(iy))] = (BAD_MARK, base + Style(color="yellow", bold=True))
        if bi is not None:
            col, row = lay.centre(int(bi[0]), int(bi[1]))
            marks[(col, row)] = ((BEST_MARK, base + Style(bold=True, reverse=True)) if ascii else
                                 (BEST_MARK, Style(color="black", bgcolor=Color.from_rgb(*shade(0.0)), bold=True)))
        return list(marks.items())

    @staticmethod
    def _row_keys(lay: CellLayout, t: np.ndarray, rows: int,
                  marks: list[tuple[tuple[int, int], tuple[str, Style]]]) -> list[np.ndarray]:
        """Each text row's cell codes (see ``image_row``): shades quantized, half-block pixel pairs, marks."""
        per = lay.per_row
        # pixels, top row first: cell (ix, iy) covers columns ix·cw… and pixel rows (ny−1−iy)·ch…
        pix = np.repeat(np.repeat(t[:, ::-1].T, lay.ch, axis=0), lay.cw, axis=1)
        if pix.shape[0] % per:
            pix = np.vstack([pix, np.full((1, pix.shape[1]), np.nan)])
        q8 = level(pix)  # quantized pixels (−1: blank), padded to whole text rows
        q8 = np.vstack([q8, np.full((max(0, rows * per - q8.shape[0]), q8.shape[1]), -1)])[: rows * per]
        n1 = LEVELS + 1
        keys = []
        for r in range(rows):
            key = (q8[r] + 1 if per == 1 else (q8[2 * r] + 1) * n1 + (q8[2 * r + 1] + 1)).copy()
            for m, ((col, row), _) in enumerate(marks):
                if row == 1 + r and 0 <= col - lay.left < len(key):
                    key[col - lay.left] = -(m + 1)
            keys.append(key)
        return keys

    def _limits(self, j: int) -> tuple[float, float]:
        """A parameter's bounds, else the range of its evaluated values (widened when they are all equal)."""
        name = self.history.names[j]
        if name in self.bounds:
            return self.bounds[name]
        v = self.history.values[:, j]
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 1.0)
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

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
        fig.title(self._title(f"{kind} over {name}", f"best {y[i]:.4g} at {name}={fmt(x[i])}", w - 2))
        fig.label(name, axis="x")
        return as_text(fig, self.app.no_color)

