"""Loss (or one objective term) of every candidate against evaluation number (points) with the best-so-far line and
the structure-alone reference, or a parameter-vs-loss scatter."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from rich.text import Text
from textual.widget import Widget

from tui.baseline import draw_nulls, fc_like
from tui.history import History
from tui.widgets.plotting import CachedRender, QuantityAndBaseline, as_text, figure

POINTS = (110, 160, 255)  # candidates: light blue braille dots
BEST = (90, 230, 110)  # best so far: a green half-block line (a different glyph, so it reads without colour too)

#: Most points handed to plotext per signal (a redraw stays fast).
MAX_POINTS = 1000


def thin(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` evenly spread points out of ``n`` (the last one kept)."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(int)
    return np.unique(idx)


def _fit(width: int, text: str, short: str) -> str:
    """``text`` when it fits the plot's width (plotext drops a title that does not), else ``short``, else nothing."""
    for t in (text, short):
        if len(t) <= width - 2:
            return t
    return ""


class LossPlot(QuantityAndBaseline, CachedRender, Widget):
    """A plotext chart of the run so far; ``view`` is "loss" or the name of a fitted parameter."""

    DEFAULT_CSS = "LossPlot { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self.view = "loss"
        self.history = History()

    def reset(self, names: tuple[str, ...] = ()) -> None:
        """Forget all points; ``names`` are the fitted parameters of the coming run."""
        self.names = tuple(names)
        if self.view != "loss" and self.view not in self.names:
            self.view = "loss"
        self.history = History(self.names)
        self._touch()

    def add_batch(self, first: int, values: np.ndarray, losses: np.ndarray, flags: tuple[str, ...] = (),
                  terms: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one evaluated batch; flagged candidates ("nan", "flat": they got the worst loss) are only counted."""
        self.history.add(first, values, losses, flags, terms)
        self._touch()

    def cycle_view(self) -> str:
        """Switch to the next view: loss, then each fitted parameter against loss."""
        views = ["loss", *self.names]
        self.view = views[(views.index(self.view) + 1) % len(views)] if self.view in views else "loss"
        self._touch()
        return self.view

    @property
    def diverged(self) -> int:
        """Candidates left off the plot because they diverged."""
        return int((~self.history.ok).sum())

    @property
    def count(self) -> int:
        """Candidates plotted."""
        return len(self.history)

    def _render_key(self) -> tuple:
        return (self.view,)

    def _build(self, w: int, h: int) -> Text:
        if w < 20 or h < 6:
            return Text("(panel too small for the plot)")
        h_ = self.history
        if not len(h_):
            hint = "" if not self.names or len(self.names) == 0 else "   (F8: parameter views)"
            return Text(f"Loss vs evaluation — no candidates yet{hint}", style="dim")
        import plotext as plt  # deferred: keeps start-up fast

        q = self.shown
        ok = h_.ok & np.isfinite(h_.quantity(q))
        ev = h_.evaluations[ok]
        loss = h_.quantity(q)[ok]
        bad = int((~h_.ok).sum())
        off = f" · {bad} diverged (off-plot)" if bad else ""
        term = " · ^T term" if len(h_.quantities) > 1 else ""
        if not len(loss):
            return Text(f"{q} vs evaluation — no values yet ({bad} diverged)", style="yellow")
        fig = figure(w, h, self.app.no_color, legend=False)
        keep = thin(len(loss))
        if self.view == "loss":
            best = np.minimum.accumulate(loss)
            pts = fig.signal(ev[keep].tolist(), loss[keep].tolist(), marker=plt.marker("braille", POINTS))
            line = fig.signal(ev[keep].tolist(), best[keep].tolist(), marker=plt.marker("hd", BEST))
            line.lines(True)
            fig.draw(pts)
            fig.draw(line)
            if fc_like(q, h_.term_names, self.loss_is_fc):
                draw_nulls(fig, self.baseline, self.map_null, float(ev[-1]))
            fig.title(_fit(w, f"⠂ {q}  ▄▄ best {best[-1]:.4f}{off} · F8 view{term}", f"▄▄ best {q} {best[-1]:.4f}{off}"))
            fig.label("evaluation", axis="x")
        else:
            j = self.names.index(self.view)
            vals = h_.values[ok][:, j]
            pts = fig.signal(vals[keep].tolist(), loss[keep].tolist(), marker="braille")
            fig.draw(pts)
            i = int(np.argmin(loss))
            star = fig.signal([float(vals[i])], [float(loss[i])], marker=plt.marker("X", BEST))
            fig.draw(star)
            fig.title(_fit(w, f"{q} vs {self.view} (X best {vals[i]:.4g}{off}) · F8 view{term}", f"X best {vals[i]:.4g}"))
            fig.label(self.view, axis="x")
        return as_text(fig, self.app.no_color)
