"""The run directories as ``wcfit-tui runs`` lists them, with a mark column for comparing several."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.runs.listing import STATUS_STYLE

MARK = "●"


def _when(t: float | None) -> str:
    return "—" if t is None else _dt.datetime.fromtimestamp(t).strftime("%m-%d %H:%M")


def _params(params) -> str:
    return " ".join(f"{k}={float(v):.4g}" for k, v in dict(params or {}).items()) or "—"


class RunsTable(DataTable):
    """One row per run (oldest first); space marks a run, enter opens it."""

    BINDINGS = [Binding("space", "toggle_mark", "Mark"), Binding("enter", "open", "Open")]

    @dataclass
    class RunOpened(Message):
        """The user asked to open a run (attach: live if it runs, else a replay)."""

        path: str

    @dataclass
    class MarksChanged(Message):
        """The set of marked runs changed."""

        paths: tuple[str, ...]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row")
        self.runs: list = []
        self.marked: list[str] = []  # paths, in the order they were marked

    def on_mount(self) -> None:
        for label, key in (("", "mark"), ("name", "name"), ("status", "status"), ("optimizer", "optimizer"),
                           ("evals", "evals"), ("best loss", "best"), ("best params", "params"),
                           ("started", "started")):
            self.add_column(label, key=key)

    def set_runs(self, runs: list) -> None:
        """Show ``runs`` (``engine.runs.RunInfo``); marks of runs still listed are kept."""
        self.runs = list(runs)
        paths = {str(r.path) for r in self.runs}
        self.marked = [p for p in self.marked if p in paths]
        self.clear()
        for r in self.runs:
            self.add_row(self._mark(str(r.path)), r.name, Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                         r.optimizer, Text(f"{r.evaluations}/{r.budget}", justify="right"),
                         Text("—" if r.best_loss is None else f"{r.best_loss:.5f}", justify="right"),
                         _params(r.best_params), _when(r.started), key=str(r.path))

    def _mark(self, path: str) -> Text:
        return Text(MARK, style="bold magenta") if path in self.marked else Text(" ")

    def current_path(self) -> str | None:
        """The path of the run under the cursor."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the run under the cursor for comparison."""
        path = self.current_path()
        if path is None:
            return
        if path in self.marked:
            self.marked.remove(path)
        else:
            self.marked.append(path)
        self.update_cell(path, "mark", self._mark(path))
        self.post_message(self.MarksChanged(tuple(self.marked)))

    def action_open(self) -> None:
        """Open the run under the cursor."""
        path = self.current_path()
        if path is not None:
            self.post_message(self.RunOpened(path))
