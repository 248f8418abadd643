"""Target, best-model and difference FC side by side, drawn with half-block cells (or an ASCII ramp).

With region labels, the rows are labelled on the left where the panel has room (abbreviated, the region at
the start of each row of cells), and the mouse over a cell names its pair of regions and their values in
the bottom line.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

#: Characters from −1 to +1 when colour is unavailable (NO_COLOR or a 16-colour terminal).
ASCII_RAMP = " .:-=+*#%@"
HALF = "▀"
GAP = 2
#: Width of the row-label axis (abbreviated label + a space), drawn only when each panel keeps this many columns.
AXIS = 10
MIN_PANEL_WITH_AXIS = 22


def colour(v: float) -> tuple[int, int, int]:
    """Diverging blue–white–red colour for a value in [−1, 1]."""
    v = float(np.clip(v, -1.0, 1.0)) if np.isfinite(v) else 0.0
    if v >= 0:
        return (255, int(255 * (1 - v)), int(255 * (1 - v)))
    return (int(255 * (1 + v)), int(255 * (1 + v)), 255)


def ramp_char(v: float) -> str:
    """ASCII ramp character for a value in [−1, 1]."""
    v = float(np.clip(v, -1.0, 1.0)) if np.isfinite(v) else 0.0
    return ASCII_RAMP[min(len(ASCII_RAMP) - 1, int((v + 1) / 2 * len(ASCII_RAMP)))]


def wants_ascii(app, force: bool | None = None) -> bool:
    """Whether a heatmap should use the ASCII ramp: forced, NO_COLOR, or a terminal without 256 colours."""
    if force is not None:
        return force
    if app.no_color:
        return True
    if app.is_headless:
        return False  # tests and screenshots render to truecolour SVG
    return app.console.color_system in (None, "standard", "windows")


def resample(m: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Block-average (or repeat) an N×N matrix onto a rows×cols grid."""
    n0, n1 = m.shape
    ri = (np.arange(rows + 1) * n0 / rows).astype(int)
    ci = (np.arange(cols + 1) * n1 / cols).astype(int)
    out = np.empty((rows, cols))
    for a in range(rows):
        r0, r1 = ri[a], max(ri[a + 1], ri[a] + 1)
        for b in range(cols):
            c0, c1 = ci[b], max(ci[b + 1], ci[b] + 1)
            out[a, b] = np.nanmean(m[r0:min(r1, n0), c0:min(c1, n1)])
    return out


def abbreviate(label: str, width: int) -> str:
    """A region label shortened to ``width`` cells: each word cut to the same length, the hemisphere suffix kept as written.

    ``Frontal_Inf_Orb_2_L`` → ``FrInOr2_L`` at 9 (so it reads like ``Insula_L``, which fits and stays as it is)."""
    if len(label) <= width:
        return label
    body, hemi = label, ""
    if len(label) > 2 and label[-2] in "_-. " and label[-1] in "LRlr":
        body, hemi = label[:-2], label[-2:]
    parts = [p for p in body.replace("-", "_").replace(" ", "_").split("_") if p] or [body]
    for k in range(max(len(p) for p in parts), 0, -1):
        text = "".join(p[:k] for p in parts) + hemi
        if len(text) <= width:
            return text
    return label[:width]


def block_edges(n: int, cells: int) -> np.ndarray:
    """First index of each of ``cells`` blocks over ``n`` items, and n: the blocks ``resample`` averages."""
    return (np.arange(cells + 1) * n / cells).astype(int)


class FCHeatmaps(Widget):
    """Three FC matrices (target, best model, model − target) scaled to the panel, with a colour bar."""

    DEFAULT_CSS = "FCHeatmaps { height: 1fr; width: 1fr; }"

    def __init__(self, *, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.force_ascii = ascii
        self.target: np.ndarray | None = None
        self.model: np.ndarray | None = None
        self.corr: float | None = None
        self.labels: tuple[str, ...] | None = None
        self.model_title = "best model FC"
        self._hover: tuple[int, int] | None = None  # (row region, column region) under the mouse
        self._geometry: tuple[list[int], int, int, int] | None = None  # panel x0s, image rows, cols, rows per cell
        self._version = 0
        self._cache_key: tuple | None = None
        self._lines: list[Strip] = []

    # -- data -------------------------------------------------------------------------------
    def set_target(self, fc: np.ndarray | None, labels: tuple[str, ...] | None = None) -> None:
        """Show a target FC (from the dataset or a Started event), with its region labels when known."""
        self.target = None if fc is None else np.asarray(fc, float)
        self.labels = None
        self.set_labels(labels)

    def set_labels(self, labels: tuple[str, ...] | list[str] | None) -> None:
        """Name the regions (ignored unless there is one label per row of the target FC)."""
        ok = labels is not None and self.target is not None and len(labels) == self.target.shape[0]
        self.labels = tuple(str(x) for x in labels) if ok else None  # type: ignore[union-attr]
        self._hover = None
        self._changed()

    def region_name(self, i: int) -> str:
        """Region i as shown in the readout: its number and label."""
        return f"{i} {self.labels[i]}" if self.labels else f"region {i}"

    def set_model(self, fc: np.ndarray | None, corr: float | None) -> None:
        """Show the best model FC so far and its correlation with the target."""
        self.model = None if fc is None else np.asarray(fc, float)
        self.corr = corr
        self._changed()

    def clear_model(self) -> None:
        """Forget the model FC (reset)."""
        self.set_model(None, None)

    def _changed(self) -> None:
        self._version += 1
        self.refresh()

    @property
    def use_ascii(self) -> bool:
        """Whether to draw with the ASCII ramp instead of coloured half blocks."""
        return wants_ascii(self.app, self.force_ascii)

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height, self._version, self.use_ascii)
        if key != self._cache_key:
            self._lines = self._draw(self.size.width, self.size.height, self.use_ascii)
            self._cache_key = key
        if y == len(self._lines) - 1 and self._hover is not None and self.target is not None:
            return self._readout(self.size.width)
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)

    # -- the mouse: which pair of regions is under it ----------------------------------------
    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The (row, column) regions drawn at widget cell (x, y), or None outside the images."""
        if self._geometry is None or self.target is None:
            return None
        x0s, img_rows, img_cols, per_cell = self._geometry
        r = y - 1
        if not 0 <= r < img_rows:
            return None
        for x0 in x0s:
            if x0 <= x < x0 + img_cols:
                n = self.target.shape[0]
                return (int(block_edges(n, img_rows * per_cell)[r * per_cell]),
                        int(block_edges(n, img_cols)[x - x0]))
        return None

    def on_mouse_move(self, event) -> None:
        offset = event.get_content_offset(self)
        cell = None if offset is None else self.cell_at(offset.x, offset.y)
        if cell != self._hover:
            self._hover = cell
            self.refresh()

    def on_leave(self, event) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def _readout(self, width: int) -> Strip:
        """The bottom line while the mouse is over a cell: the two regions and their FC values."""
        base = self.rich_style
        i, j = self._hover  # type: ignore[misc]
        text = f"{self.region_name(i)} × {self.region_name(j)}: target {self.target[i, j]:.2f}"  # type: ignore[index]
        if self.model is not None:
            text += f" · model {self.model[i, j]:.2f} · Δ {self.model[i, j] - self.target[i, j]:+.2f}"  # type: ignore[index]
        return Strip([Segment(text, base + Style(bold=True))]).adjust_cell_length(width, base)

    def _draw(self, width: int, height: int, ascii: bool) -> list[Strip]:
        base = self.rich_style
        blank = [Strip.blank(width, base) for _ in range(height)]
        self._geometry = None
        if width < 12 or height < 4:
            return blank
        if self.target is None:
            msg = "no target FC yet"
            blank[0] = Strip([Segment(msg[:width].ljust(width), base)])
            return blank
        panels: list[tuple[str, np.ndarray | None]] = [("target FC", self.target), (self.model_title, self.model),
                                                       ("model − target", None if self.model is None else self.model - self.target)]
        axis = AXIS if self.labels and (width - AXIS - 2 * GAP) // 3 >= MIN_PANEL_WITH_AXIS else 0
        pw = (width - axis - 2 * GAP) // 3
        rows = height - 2  # title row + colour-bar row
        if ascii:
            side_rows = max(1, min(rows, pw // 2))
            img_rows, img_cols = side_rows, min(pw, 2 * side_rows)
        else:
            side = max(2, min(pw, 2 * rows))
            img_rows, img_cols = side // 2, side
        per_cell = 1 if ascii else 2
        images = [None if m is None else resample(m, img_rows * per_cell, img_cols) for _, m in panels]
        self._geometry = ([axis + i * (pw + GAP) for i in range(3)], min(img_rows, rows), img_cols, per_cell)
        lines: list[list[Segment]] = [[] for _ in range(height)]
        if axis:
            lines[0].append(Segment(" " * axis, base))
            edges = block_edges(self.target.shape[0], img_rows * per_cell)
            for r in range(rows):
                name = abbreviate(self.labels[edges[r * per_cell]], axis - 1) if r < img_rows else ""  # type: ignore[index]
                lines[1 + r].append(Segment(name.rjust(axis - 1) + " ", base + Style(dim=True)))
        for i, (title, _m) in enumerate(panels):
            sep = [Segment(" " * GAP, base)] if i else []
            lines[0] += sep + [Segment(title[:pw].center(pw), base + Style(bold=True))]
            img = images[i]
            for r in range(rows):
                row: list[Segment] = list(sep)
                if img is None or r >= img_rows:
                    text = "(no model yet)" if img is None and r == img_rows // 2 else ""
                    row.append(Segment(text[:pw].center(pw), base + Style(dim=True)))
                else:
                    if ascii:
                        row.append(Segment("".join(ramp_char(v) for v in img[r]), base))
                    else:
                        for c in range(img_cols):
                            top, bot = colour(img[2 * r, c]), colour(img[2 * r + 1, c])
                            row.append(Segment(HALF, Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bot))))
                    row.append(Segment(" " * (pw - img_cols), base))
                lines[1 + r] += row
        lines[-1] = self._colour_bar(width, ascii, base)
        return [Strip(segs).adjust_cell_length(width, base) for segs in lines]

    def _colour_bar(self, width: int, ascii: bool, base: Style) -> list[Segment]:
        n = max(5, min(31, width // 3))
        segs = [Segment("−1 ", base)]
        for i in range(n):
            v = -1 + 2 * i / (n - 1)
            if ascii:
                segs.append(Segment(ramp_char(v), base))
            else:
                segs.append(Segment(" ", Style(bgcolor=Color.from_rgb(*colour(v)))))
        segs.append(Segment(" +1", base))
        corr = "   FC correlation r = —" if self.corr is None else f"   FC correlation r = {self.corr:.3f}"
        segs.append(Segment(corr, base + Style(bold=True)))
        return segs
