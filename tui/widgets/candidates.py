"""Every evaluated candidate: its loss, objective terms (when the events carry them), parameters and flags;
sortable, best first."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from rich.text import Text
from textual.widgets import DataTable


def _num(v: float) -> Text:
    if not np.isfinite(float(v)):
        return Text("—", justify="right")
    return Text(f"{float(v):.5g}" if abs(float(v)) >= 1e-3 or v == 0 else f"{float(v):.3e}", justify="right")


def _sort_key(cell: object) -> tuple[int, float | str]:
    """Numbers sort numerically (shown as Text); flags sort as text after them."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


class CandidatesTable(DataTable):
    """A DataTable of candidates; click a header (or press s) to sort by that column, again to reverse."""

    BINDINGS = [("s", "cycle_sort", "Sort column")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row")
        self.names: tuple[str, ...] = ()
        self.terms: tuple[str, ...] = ()
        self.sort_column = "loss"
        self.sort_reverse = False

    def reset(self, names: tuple[str, ...] = (), terms: tuple[str, ...] = ()) -> None:
        """Clear rows and set columns: loss, the objective ``terms``, the fitted parameters ``names``, flags."""
        self.clear(columns=True)
        self.names, self.terms = tuple(names), tuple(terms)
        self.add_column("#", key="eval")
        self.add_column("loss", key="loss")
        for t in self.terms:
            self.add_column(t, key="term:" + t)
        for n in self.names:
            self.add_column(n, key=n)
        self.add_column("flags", key="flags")
        self.sort_column, self.sort_reverse = "loss", False

    def add_batch(self, first: int, names: tuple[str, ...], values: np.ndarray, losses: np.ndarray,
                  flags: tuple[str, ...], terms: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one evaluated batch and keep the current sort; ``terms`` are per-candidate objective terms."""
        terms = dict(terms or {})
        if tuple(names) != self.names or (terms and not self.row_count and tuple(terms) != self.terms):
            self.reset(tuple(names), tuple(terms))
        for t in terms:
            if t not in self.terms:  # a term first seen after rows exist: a column at the end
                self.terms += (t,)
                self.add_column(t, key="term:" + t, default=Text("—", justify="right"))
        cols = {t: np.asarray(v, float).reshape(-1) for t, v in terms.items()}
        order = [str(c.key.value) for c in self.ordered_columns]
        for i, loss in enumerate(losses):
            cells = {"eval": Text(str(first + i + 1), justify="right"), "loss": _num(loss),
                     "flags": flags[i] if i < len(flags) else ""}
            cells.update({n: _num(v) for n, v in zip(self.names, values[i])})
            cells.update({"term:" + t: _num(c[i]) for t, c in cols.items()})
            self.add_row(*(cells.get(k, Text("—", justify="right")) for k in order), key=str(first + i))
        self.apply_sort()

    def apply_sort(self) -> None:
        """Sort rows by the current column (numbers numerically)."""
        if self.row_count and self.sort_column in {str(c.value) for c in self.columns}:
            self.sort(self.sort_column, key=_sort_key, reverse=self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        self.sort_reverse = (not self.sort_reverse) if key == self.sort_column else False
        self.sort_column = key
        self.apply_sort()

    def action_cycle_sort(self) -> None:
        keys = [str(c.value) for c in self.columns]
        if keys:
            i = keys.index(self.sort_column) if self.sort_column in keys else -1
            self.sort_column, self.sort_reverse = keys[(i + 1) % len(keys)], False
            self.apply_sort()
            self.notify(f"sorted by {self.sort_column}", timeout=2)

    def sorted_keys(self) -> list[str]:
        """Row keys in display order (for tests)."""
        return [str(r.key.value) for r in self.ordered_rows]
