"""What the plot widgets share: a render cached on size, version and colour, the quantity and baseline shown, and the
plotext figure set-up."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tui.history import LOSS


class CachedRender:
    """Mixin for a ``Widget`` whose ``render()`` is rebuilt only when its size, data version or colour mode changes.

    A subclass implements ``_build(width, height) -> Text`` and calls ``_touch()`` when its data changes; it may
    add to the cache key with ``_render_key()``.
    """

    _version: int = 0
    _cache: tuple[tuple, Text] | None = None

    def _render_key(self) -> tuple:
        """More things the drawing depends on (none by default)."""
        return ()

    def _touch(self) -> None:
        """The data changed: draw again."""
        self._version += 1
        self.refresh()  # type: ignore[attr-defined]

    def render(self) -> Text:
        """The cached drawing, rebuilt when the key changed."""
        w, h = self.size.width, self.size.height  # type: ignore[attr-defined]
        key = (w, h, self._version, bool(self.app.no_color), *self._render_key())  # type: ignore[attr-defined]
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        text = self._build(w, h)
        self._cache = (key, text)
        return text

    def _build(self, width: int, height: int) -> Text:  # pragma: no cover - every subclass draws
        raise NotImplementedError


class QuantityAndBaseline:
    """Mixin for a plot of a run's history: which quantity it shows (the loss or one term) and the structure-alone line.

    A subclass provides ``history`` (a ``History``) and ``_touch()`` (draw again).
    """

    quantity: str = LOSS  # the y values: the loss or one objective term
    baseline: float | None = None  # structure-alone FC correlation r (drawn at 1 − r)
    loss_is_fc: bool = True  # the loss is 1 − FC r (the fc-only objective)

    def set_quantity(self, quantity: str) -> None:
        """Show the loss or one objective term."""
        if quantity != self.quantity:
            self.quantity = quantity
            self._touch()  # type: ignore[attr-defined]

    map_null: tuple[str, float] | None = None  # the best map-alone r of the maps the fit uses (name, r)

    def set_baseline(self, r: float | None, loss_is_fc: bool = True, map_null: tuple[str, float] | None = None) -> None:
        """The structure-alone correlation (and the best map alone); drawn at 1 − r where the plot shows 1 − FC r."""
        self.baseline, self.loss_is_fc, self.map_null = r, loss_is_fc, map_null
        self._touch()  # type: ignore[attr-defined]

    @property
    def shown(self) -> str:
        """The quantity actually drawn (the loss until the events carry the chosen term)."""
        return self.quantity if self.quantity in self.history.quantities else LOSS  # type: ignore[attr-defined]


def figure(width: int, height: int, no_color: bool, *, legend: bool | None = None) -> Any:
    """plotext's figure, cleared and sized to a panel (not to the real terminal), in the app's colour mode."""
    import plotext as plt  # deferred: keeps start-up fast

    plt.terminal.limit(False, False)
    fig = plt.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("colorless" if no_color else "dark")
    fig.canvas("default")
    if legend is not None:
        fig.legend(legend)
    return fig


def as_text(fig: Any, no_color: bool) -> Text:
    """A built plotext figure as rich Text (no wrapping)."""
    return Text.from_ansi(fig.build().string(colorless=bool(no_color)), no_wrap=True)
