"""The best-so-far loss of several runs overlaid on one plot (plotext), one colour and marker per run."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

#: Colours of the runs' curves, in marking order (the marker differs too, so it reads without colour).
COLOURS = ((90, 230, 110), (110, 160, 255), (255, 170, 60), (230, 90, 200), (240, 240, 90), (90, 220, 220))
MARKERS = ("hd", "braille", "dot", "+", "x", "*")
#: How each marker looks, for the comparison table's key column (the plot has no legend box over the curves).
GLYPHS = ("▄▄", "⠒⠒", "··", "++", "xx", "**")


def style_of(i: int) -> tuple[tuple[int, int, int], str, str]:
    """Colour, plotext marker and key glyph of the i-th compared run."""
    return COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)], GLYPHS[i % len(GLYPHS)]


class BestCurves(Widget):
    """Best loss so far against evaluation for each compared run (``RunCurve``s), with a legend."""

    DEFAULT_CSS = "BestCurves { height: 1fr; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.curves: list = []
        self._version = 0
        self._cache: tuple[tuple, Text] | None = None

    def set_curves(self, curves: list) -> None:
        """Show these runs' curves (redraws only when called)."""
        self.curves = list(curves)
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        key = (self.size.width, self.size.height, self._version, self.app.no_color)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._build(*key[:2]))
        return self._cache[1]

    def _build(self, w: int, h: int) -> Text:
        curves = [c for c in self.curves if len(c.best_so_far)]
        if not self.curves:
            return Text("Mark runs with space in the Runs tab, then press c to compare them here.", style="dim")
        if not curves:
            return Text("the marked runs have no evaluated candidates yet", style="dim")
        if w < 20 or h < 6:
            return Text("(panel too small for the plot)")
        import plotext as plt  # deferred: keeps start-up fast

        plt.terminal.limit(False, False)
        fig = plt.figure
        fig.clear()
        fig.plot_size(w, h)
        fig.theme("colorless" if self.app.no_color else "dark")
        fig.canvas("default")
        for i, c in enumerate(self.curves):
            if not len(c.best_so_far):
                continue
            rgb, marker, _glyph = style_of(i)
            s = fig.signal(c.evaluations.tolist(), c.best_so_far.tolist(), marker=plt.marker(marker, rgb))
            s.lines(True)
            fig.draw(s)
        fig.legend(False)  # the table below keys the runs: a legend box would hide the curves' start
        fig.title("best loss so far vs evaluation (key: the table below)" if w > 60 else "best so far")
        fig.label("evaluation", axis="x")
        return Text.from_ansi(fig.build().string(colorless=bool(self.app.no_color)), no_wrap=True)
