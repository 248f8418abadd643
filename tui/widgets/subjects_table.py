"""A study's subjects as ``engine.study.table.study_rows`` gives them: status, evaluations, best loss, FC r and
structural baseline."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.runs.listing import STATUS_STYLE as RUN_STATUS_STYLE

#: A run's status styles, with the study table's names for a finished subject and one not started.
STATUS_STYLE = {**RUN_STATUS_STYLE, "done": RUN_STATUS_STYLE["finished"], "waiting": "dim"}
COLUMNS = (("subject", "subject"), ("status", "status"), ("evals", "evals"), ("best loss", "loss"),
           ("best FC r", "corr"), ("structure r", "baseline"))
#: Columns shown once any subject has them (label, key, SubjectRow attribute): fresh noise first, so the r a subject
#: is judged by stands beside its structure's at 80 columns, then held-out r, nulls and level.
EXTRA_COLUMNS = (("fresh r", "fresh", "fresh_fc_corr"), ("fresh KS", "fresh_ks", "fresh_fcd_ks"),
                 ("test r", "test", "test_fc_corr"), ("map alone r", "map", "map_alone"),
                 ("mean FC", "mean_fc", "fresh_mean_fc"), ("data FC", "data_fc", "data_mean_fc"))


def _num(x: float | None, digits: int) -> Text:
    return Text("—" if x is None else f"{x:.{digits}f}", justify="right")


def judged_corr(row: object) -> tuple[str, float | None]:
    """The r a subject is judged by and its column key: the fresh-noise mean where a verdict exists (new seeds), else
    the search's best (a best-of-N on one noise seed)."""
    fresh = getattr(row, "fresh_fc_corr", None)
    return ("fresh", fresh) if fresh is not None else ("corr", getattr(row, "best_fc_corr", None))


def no_better_than_structure(row: object) -> bool:
    """Whether a subject's judged r (``judged_corr``) is no better than its structure-alone baseline (both known)."""
    corr, base = judged_corr(row)[1], getattr(row, "structural_baseline", None)
    return corr is not None and base is not None and corr <= base


def _corr_cell(row: object, key: str, value: float | None) -> Text:
    """An r cell, marked in yellow with ≤ when it is the judged r and the wiring alone predicts the FC as well."""
    cell = _num(value, 3)
    if judged_corr(row)[0] == key and no_better_than_structure(row):
        cell = Text(f"≤ {cell.plain}", style="bold yellow", justify="right")
    return cell


class SubjectsTable(DataTable):
    """One row per subject, in the study's order; enter opens the subject's run."""

    BINDINGS = [Binding("enter", "open", "Open")]

    @dataclass
    class SubjectOpened(Message):
        """The user asked to open a subject's run (``row`` is an ``engine.study.table.SubjectRow``)."""

        row: object

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row")
        self.subjects: list = []

    def on_mount(self) -> None:
        self.set_rows([])  # the headers before any subject: set_rows owns the columns

    def set_rows(self, rows: list) -> None:
        """Show ``rows``, updating cells in place when the subjects are the same (the cursor stays)."""
        same = [r.name for r in rows] == [r.name for r in self.subjects]
        self.subjects = list(rows)
        extra = [(label, key, attr) for label, key, attr in EXTRA_COLUMNS
                 if any(getattr(r, attr, None) is not None for r in rows)]  # verdicts and held-out checks
        columns = COLUMNS + tuple((label, key) for label, key, _ in extra)
        cursor = self.cursor_row if same else 0
        if [k.value for k in self.columns] != [key for _, key in columns]:  # a new column keeps its place in the order
            self.clear(columns=True)
            for label, key in columns:
                self.add_column(label, key=key)
            same = False
        elif not same:
            self.clear()
        for r in self.subjects:
            cells: tuple[object, ...] = (r.name, Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                     Text(f"{r.evaluations}/{r.budget}", justify="right"), _num(r.best_loss, 5),
                     _corr_cell(r, "corr", r.best_fc_corr), _num(r.structural_baseline, 3))
            cells = cells + tuple(_corr_cell(r, key, getattr(r, attr, None)) if key == "fresh"
                                  else _num(getattr(r, attr, None), 3) for _, key, attr in extra)
            if same:
                for (_, key), value in zip(columns, cells):
                    self.update_cell(r.name, key, value)
            else:
                self.add_row(*cells, key=r.name)
        if not same and cursor and cursor < self.row_count:
            self.move_cursor(row=cursor)  # the columns were rebuilt under the user: the same subject stays selected

    def current(self):
        """The row under the cursor, or None."""
        if not self.row_count:
            return None
        name = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((r for r in self.subjects if r.name == name), None)

    def action_open(self) -> None:
        """Open the subject under the cursor."""
        row = self.current()
        if row is not None:
            self.post_message(self.SubjectOpened(row))
