"""Loss of every candidate against evaluation number (points) with the best-so-far line, or a parameter-vs-loss scatter."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

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


class LossPlot(Widget):
    """A plotext chart of the run so far; ``view`` is "loss" or the name of a fitted parameter."""

    DEFAULT_CSS = "LossPlot { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self.view = "loss"
        self._evals: list[np.ndarray] = []
        self._losses: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._ok: list[np.ndarray] = []  # False where the candidate diverged (flagged): kept off the y-range
        self._cache: tuple[tuple, Text] | None = None
        self._version = 0

    def reset(self, names: tuple[str, ...] = ()) -> None:
        """Forget all points; ``names`` are the fitted parameters of the coming run."""
        self.names = tuple(names)
        if self.view != "loss" and self.view not in self.names:
            self.view = "loss"
        self._evals, self._losses, self._values, self._ok = [], [], [], []
        self._touch()

    def add_batch(self, first: int, values: np.ndarray, losses: np.ndarray, flags: tuple[str, ...] = ()) -> None:
        """Add one evaluated batch; flagged candidates ("nan", "flat": they got the worst loss) are only counted."""
        n = len(losses)
        ok = np.isfinite(np.asarray(losses, float))
        for i, f in enumerate(flags[:n]):
            ok[i] &= not f
        self._ok.append(ok)
        self._evals.append(np.arange(first + 1, first + n + 1))
        self._losses.append(np.asarray(losses, float))
        self._values.append(np.asarray(values, float).reshape(n, -1))
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
        return int(sum(int((~x).sum()) for x in self._ok))

    @property
    def count(self) -> int:
        """Candidates plotted."""
        return int(sum(len(x) for x in self._losses))

    def _touch(self) -> None:
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        w, h = self.size.width, self.size.height
        key = (w, h, self._version, self.view, self.app.no_color)
        if self._cache and self._cache[0] == key:
            return self._cache[1]
        text = self._build(w, h)
        self._cache = (key, text)
        return text

    def _build(self, w: int, h: int) -> Text:
        if w < 20 or h < 6:
            return Text("(panel too small for the plot)")
        if not self._losses:
            hint = "" if not self.names or len(self.names) == 0 else "   (F8: parameter views)"
            return Text(f"Loss vs evaluation — no candidates yet{hint}", style="dim")
        import plotext as plt  # deferred: keeps start-up fast

        ok = np.concatenate(self._ok)
        ev = np.concatenate(self._evals)[ok]
        loss = np.concatenate(self._losses)[ok]
        bad = int((~ok).sum())
        off = f" · {bad} diverged (off-plot)" if bad else ""
        if not len(loss):
            return Text(f"Loss vs evaluation — all {bad} candidates so far diverged (nan/flat)", style="yellow")
        plt.terminal.limit(False, False)  # size to the panel, not to the real terminal
        fig = plt.figure
        fig.clear()
        fig.plot_size(w, h)
        fig.theme("colorless" if self.app.no_color else "dark")
        fig.canvas("default")
        fig.legend(False)
        keep = thin(len(loss))
        if self.view == "loss":
            best = np.minimum.accumulate(loss)
            pts = fig.signal(ev[keep].tolist(), loss[keep].tolist(), marker=plt.marker("braille", POINTS))
            line = fig.signal(ev[keep].tolist(), best[keep].tolist(), marker=plt.marker("hd", BEST))
            line.lines(True)
            fig.draw(pts)
            fig.draw(line)
            fig.title(_fit(w, f"⠂ loss  ▄▄ best {best[-1]:.4f}{off} · F8 view", f"▄▄ best {best[-1]:.4f}{off}"))
            fig.label("evaluation", axis="x")
        else:
            j = self.names.index(self.view)
            vals = np.concatenate(self._values)[ok][:, j]
            pts = fig.signal(vals[keep].tolist(), loss[keep].tolist(), marker="braille")
            fig.draw(pts)
            i = int(np.argmin(loss))
            star = fig.signal([float(vals[i])], [float(loss[i])], marker=plt.marker("X", BEST))
            fig.draw(star)
            fig.title(_fit(w, f"loss vs {self.view} (X best {vals[i]:.4g}{off}) · F8 view", f"X best {vals[i]:.4g}"))
            fig.label(self.view, axis="x")
        return Text.from_ansi(fig.build().string(colorless=bool(self.app.no_color)), no_wrap=True)
