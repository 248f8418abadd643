"""The compared runs side by side: best loss, FC r, objective terms and best parameters."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.widgets.best_curves import style_of


def _num(v: float | None, digits: int = 4) -> Text:
    return Text("—" if v is None else f"{float(v):.{digits}g}", justify="right")


class CompareTable(DataTable):
    """One row per compared run (``RunCurve``); columns: run, optimizer, evaluations, loss, r, terms, parameters."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row")
        self.curves: list = []

    def set_curves(self, curves: list) -> None:
        """Show these runs; the term and parameter columns are the union over them."""
        self.curves = list(curves)
        self.clear(columns=True)
        terms = list(dict.fromkeys(t for c in self.curves for t in c.best_terms))
        params = list(dict.fromkeys(p for c in self.curves for p in c.best_params))
        self.add_column("", key="key")
        for label in ("run", "status", "optimizer", "evals", "best loss", "FC r"):
            self.add_column(label, key=label)
        for t in terms:
            self.add_column(t, key="term:" + t)
        for p in params:
            self.add_column(p, key="param:" + p)
        best = min((c.best_loss for c in self.curves if c.best_loss is not None), default=None)
        for i, c in enumerate(self.curves):
            rgb, _marker, glyph = style_of(i)
            win = c.best_loss is not None and c.best_loss == best
            self.add_row(Text(glyph, style=f"bold rgb({rgb[0]},{rgb[1]},{rgb[2]})"),
                         Text(c.name, style="bold green" if win else ""), c.status, c.optimizer,
                         Text(str(c.count), justify="right"), _num(c.best_loss, 5), _num(c.fc_r, 3),
                         *(_num(c.best_terms.get(t)) for t in terms),
                         *(_num(c.best_params.get(p)) for p in params), key=c.path)
