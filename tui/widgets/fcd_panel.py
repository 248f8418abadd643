"""FCD of the model and of an empirical scan side by side (one colour scale), and both value distributions with KS."""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.strip import Strip
from textual.widget import Widget

from engine.data.compare import upper
from tui import signals
from tui.widgets.fc_heatmap import GAP, HALF, colour, ramp_char, resample, wants_ascii
from tui.widgets.plotting import CachedRender, as_text, figure

MODEL = (240, 120, 80)  # the model's histogram bars
DATA = (110, 160, 255)  # the data's

#: One line shown instead of the panels when the run observes rE (no samples every TR).
NO_SAMPLES = "no FCD or BOLD: this run observes rE (not sampled every TR); choose observe = bold"


def _scale(v: float, lo: float, hi: float) -> float:
    """``v`` of [lo, hi] onto [−1, 1] (the heatmap colour scale)."""
    return -1.0 if hi <= lo else 2.0 * (v - lo) / (hi - lo) - 1.0


class FCDHeatmaps(Widget):
    """The model's and the data's FCD matrices on one colour scale (half blocks; ASCII ramp without colour)."""

    DEFAULT_CSS = "FCDHeatmaps { height: 1fr; width: 1fr; }"

    def __init__(self, *, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.force_ascii = ascii
        self.model: np.ndarray | None = None
        self.data: np.ndarray | None = None
        self.note = ""
        self.model_title = "model FCD (best)"
        self._version = 0
        self._key: tuple | None = None
        self._lines: list[Strip] = []

    def set(self, model: np.ndarray | None, data: np.ndarray | None, note: str = "") -> None:
        """Show two FCD matrices (either may be None) or a one-line ``note``."""
        self.model, self.data, self.note = model, data, note
        self._version += 1
        self.refresh()

    @property
    def scale(self) -> tuple[float, float]:
        """The shared colour scale: min and max over both matrices' off-diagonal values."""
        vals = [upper(m) for m in (self.model, self.data) if m is not None and m.size]
        if not vals:
            return 0.0, 1.0
        v = np.concatenate(vals)
        return float(v.min()), float(v.max())

    def render_line(self, y: int) -> Strip:
        ascii = wants_ascii(self.app, self.force_ascii)
        key = (self.size.width, self.size.height, self._version, ascii)
        if key != self._key:
            self._lines, self._key = self._draw(self.size.width, self.size.height, ascii), key
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)

    def _draw(self, width: int, height: int, ascii: bool) -> list[Strip]:
        base = self.rich_style
        lines: list[list[Segment]] = [[] for _ in range(height)]
        if self.note or (self.model is None and self.data is None) or width < 12 or height < 4:
            msg = self.note or "no FCD yet: it comes with the first best candidate"
            out = [Strip.blank(width, base) for _ in range(height)]
            if height:
                out[0] = Strip([Segment(msg[:width], base + Style(dim=True))]).adjust_cell_length(width, base)
            return out
        lo, hi = self.scale
        pw = (width - GAP) // 2
        rows = height - 2
        if ascii:
            img_rows = max(1, min(rows, pw // 2))
            img_cols = min(pw, 2 * img_rows)
        else:
            side = max(2, min(pw, 2 * rows))
            img_rows, img_cols = side // 2, side
        for i, (title, m) in enumerate(((self.model_title, self.model), ("data FCD (scan 1)", self.data))):
            sep = [Segment(" " * GAP, base)] if i else []
            size = "" if m is None else f" {m.shape[0]}×{m.shape[0]}"
            lines[0] += sep + [Segment((title + size)[:pw].center(pw), base + Style(bold=True))]
            img = None if m is None or not m.size else resample(m, img_rows * (1 if ascii else 2), img_cols)
            for r in range(rows):
                row: list[Segment] = list(sep)
                if img is None or r >= img_rows:
                    text = "(too short for two windows)" if img is None and r == img_rows // 2 else ""
                    row.append(Segment(text[:pw].center(pw), base + Style(dim=True)))
                elif ascii:
                    row.append(Segment("".join(ramp_char(_scale(v, lo, hi)) for v in img[r]).ljust(pw), base))
                else:
                    for c in range(img_cols):
                        top, bot = colour(_scale(img[2 * r, c], lo, hi)), colour(_scale(img[2 * r + 1, c], lo, hi))
                        row.append(Segment(HALF, Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bot))))
                    row.append(Segment(" " * (pw - img_cols), base))
                lines[1 + r] += row
        bar = [Segment(f"{lo:.2f} ", base)]
        n = max(5, min(31, width // 3))
        for j in range(n):
            v = -1 + 2 * j / (n - 1)
            bar.append(Segment(ramp_char(v), base) if ascii else Segment(" ", Style(bgcolor=Color.from_rgb(*colour(v)))))
        bar.append(Segment(f" {hi:.2f}  (one scale for both)", base))
        lines[-1] = bar
        return [Strip(segs).adjust_cell_length(width, base) for segs in lines]


class FCDHistogram(CachedRender, Widget):
    """Both FCD value distributions overlaid (plotext), titled with their KS statistic."""

    DEFAULT_CSS = "FCDHistogram { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = np.zeros(0)
        self.data = np.zeros(0)
        self.ks = float("nan")

    def set(self, model: np.ndarray | None, data: np.ndarray | None) -> None:
        """Show two value sets (the model's FCD values and the data's pooled over scans)."""
        self.model = np.zeros(0) if model is None else np.asarray(model, float)
        self.data = np.zeros(0) if data is None else np.asarray(data, float)
        self.ks = signals.ks(self.model, self.data)
        self._touch()

    def _build(self, w: int, h: int) -> Text:
        if not (len(self.model) or len(self.data)):
            return Text("")
        if w < 20 or h < 6:
            return Text(f"FCD KS = {self.ks:.3f}")
        import plotext as plt

        fig = figure(w, h, self.app.no_color)
        bins = max(10, min(40, w // 3))
        edges = np.linspace(min(-0.2, *(v.min() for v in (self.model, self.data) if len(v))),
                            1.0, bins + 1)
        centres = ((edges[:-1] + edges[1:]) / 2).tolist()
        for vals, rgb, marker in ((self.data, DATA, "braille"), (self.model, MODEL, "hd")):
            if len(vals):
                dens = np.histogram(vals, bins=edges, density=True)[0]
                fig.draw(fig.signal(centres, dens.tolist(), marker=plt.marker(marker, rgb)).lines(True))
        ks = "—" if not np.isfinite(self.ks) else f"{self.ks:.3f}"
        fig.title(f"FCD values: model ▄ vs data ⠂  KS = {ks}"[: max(0, w - 2)])
        fig.label("FCD value", axis="x")
        return as_text(fig, self.app.no_color)


class FCDPanel(Vertical):
    """The FCD heatmaps over the distributions."""

    DEFAULT_CSS = "FCDPanel { height: 1fr; width: 1fr; } FCDPanel FCDHeatmaps { height: 3fr; } FCDPanel FCDHistogram { height: 2fr; min-height: 8; }"

    def __init__(self, *, model_title: str = "model FCD (best)", id: str | None = None) -> None:
        super().__init__(id=id)
        self.model_title = model_title

    def compose(self) -> ComposeResult:
        heat = FCDHeatmaps()
        heat.model_title = self.model_title
        yield heat
        yield FCDHistogram()

    def on_mount(self) -> None:
        self.border_title = "FCD"

    def show(self, model: "signals.Model | None", empirical: "signals.Empirical | None", note: str = "") -> None:
        """Draw the model side, the empirical side, or the note instead."""
        m = None if model is None else model.fcd
        d = None if empirical is None else empirical.fcd
        self.query_one(FCDHeatmaps).set(m, d, note)
        self.query_one(FCDHistogram).set(None if note or m is None else upper(m),
                                         None if note or empirical is None else empirical.values)
