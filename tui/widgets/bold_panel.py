"""A few regions' BOLD: the best candidate's simulated signal next to the data's, each z-scored (plotext)."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from tui import signals
from tui.widgets.plotting import CachedRender, as_text, figure

MODEL = (240, 120, 80)
DATA = (110, 160, 255)

#: Regions drawn at once.
SHOWN = 3


class BoldPanel(CachedRender, Widget, can_focus=True):
    """Simulated (▄) and empirical (⠂) BOLD of ``SHOWN`` regions against time; ``[``/``]`` move the regions."""

    DEFAULT_CSS = "BoldPanel { height: 1fr; width: 1fr; }"
    BINDINGS = [Binding("right_square_bracket", "shift(1)", "Next regions"),
                Binding("left_square_bracket", "shift(-1)", "Previous regions")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: np.ndarray | None = None  # (S, N) z-scored
        self.model_tr = 1.0
        self.data: np.ndarray | None = None  # (T, N) z-scored
        self.data_tr = 1.0
        self.labels: tuple[str, ...] | None = None
        self.first = 0  # the first region shown
        self.note = ""

    def on_mount(self) -> None:
        self.border_title = "BOLD (z-scored) · [ ] regions"

    @property
    def n_nodes(self) -> int:
        """Regions available."""
        for x in (self.model, self.data):
            if x is not None:
                return int(x.shape[1])
        return 0

    @property
    def regions(self) -> list[int]:
        """The regions drawn: ``SHOWN`` spread over the brain, starting at ``first``."""
        n = self.n_nodes
        if not n:
            return []
        gap = max(1, n // SHOWN)
        return sorted({(self.first + i * gap) % n for i in range(min(SHOWN, n))})

    def set(self, model: "signals.Model | None", empirical: "signals.Empirical | None",
            labels: tuple[str, ...] | None = None, note: str = "") -> None:
        """Show the model's and the data's series (z-scored here)."""
        self.model = None if model is None else signals.zscore(model.series)
        self.model_tr = 1.0 if model is None else model.tr_s
        self.data = None if empirical is None else signals.zscore(empirical.series)
        self.data_tr = 1.0 if empirical is None else empirical.tr_s
        self.labels, self.note = labels, note
        self._touch()

    def action_shift(self, by: int) -> None:
        """Move every shown region by ``by``."""
        if self.n_nodes:
            self.first = (self.first + by) % self.n_nodes
            self._touch()

    def _region_name(self, r: int) -> str:
        return f"region {r}" + (f" {self.labels[r]}" if self.labels and r < len(self.labels) else "")

    def _build(self, w: int, h: int) -> Text:
        if self.note:
            return Text(self.note, style="dim")
        regions = self.regions
        if not regions:
            return Text("no BOLD yet: it comes with the first best candidate", style="dim")
        if w < 20 or h < 5:
            return Text("(panel too small)")
        import plotext as plt

        each = max(4, h // len(regions))
        out = Text(no_wrap=True)
        for k, r in enumerate(regions[: max(1, h // 4)]):
            fig = figure(w, each if k < len(regions) - 1 else h - each * (len(regions) - 1), self.app.no_color)
            if self.data is not None:
                t = (np.arange(self.data.shape[0]) * self.data_tr)
                if self.model is not None:  # the data over the model's span (a scan is usually longer)
                    keep = t <= self.model.shape[0] * self.model_tr
                    t = t[keep]
                    y = self.data[keep, r]
                else:
                    y = self.data[:, r]
                fig.draw(fig.signal(t.tolist(), y.tolist(), marker=plt.marker("braille", DATA)).lines(True))
            if self.model is not None:
                t = np.arange(self.model.shape[0]) * self.model_tr
                fig.draw(fig.signal(t.tolist(), self.model[:, r].tolist(), marker=plt.marker("hd", MODEL)).lines(True))
            fig.title(f"{self._region_name(r)}: model ▄ · data ⠂"[: max(0, w - 2)])
            if k == len(regions) - 1:
                fig.label("s", axis="x")
            if k:
                out.append("\n")
            out.append(as_text(fig, self.app.no_color))
        return out
