"""Target, best-model and difference FC side by side, drawn with half-block cells (or an ASCII ramp)."""

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


class FCHeatmaps(Widget):
    """Three FC matrices (target, best model, model − target) scaled to the panel, with a colour bar."""

    DEFAULT_CSS = "FCHeatmaps { height: 1fr; width: 1fr; }"

    def __init__(self, *, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.force_ascii = ascii
        self.target: np.ndarray | None = None
        self.model: np.ndarray | None = None
        self.corr: float | None = None
        self.model_title = "best model FC"
        self._version = 0
        self._cache_key: tuple | None = None
        self._lines: list[Strip] = []

    # -- data -------------------------------------------------------------------------------
    def set_target(self, fc: np.ndarray | None) -> None:
        """Show a target FC (from the dataset or a Started event)."""
        self.target = None if fc is None else np.asarray(fc, float)
        self._changed()

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
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)

    def _draw(self, width: int, height: int, ascii: bool) -> list[Strip]:
        base = self.rich_style
        blank = [Strip.blank(width, base) for _ in range(height)]
        if width < 12 or height < 4:
            return blank
        if self.target is None:
            msg = "no target FC yet"
            blank[0] = Strip([Segment(msg[:width].ljust(width), base)])
            return blank
        panels: list[tuple[str, np.ndarray | None]] = [("target FC", self.target), (self.model_title, self.model),
                                                       ("model − target", None if self.model is None else self.model - self.target)]
        pw = (width - 2 * GAP) // 3
        rows = height - 2  # title row + colour-bar row
        if ascii:
            side_rows = max(1, min(rows, pw // 2))
            img_rows, img_cols = side_rows, min(pw, 2 * side_rows)
        else:
            side = max(2, min(pw, 2 * rows))
            img_rows, img_cols = side // 2, side
        images = [None if m is None else resample(m, img_rows * (1 if ascii else 2), img_cols) for _, m in panels]
        lines: list[list[Segment]] = [[] for _ in range(height)]
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
