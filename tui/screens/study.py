"""The study screen: a study's subjects, refreshed while it runs; enter attaches a subject's run, escape returns."""

from __future__ import annotations

import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from engine.runs import RunError
from engine.study.table import study_rows
from tui.navigation import OpenRun
from tui.widgets.subjects_table import SubjectsTable, no_better_than_structure

#: Seconds between two reads of the study's files.
POLL_S = 1.5


class StudyScreen(Screen):
    """A study directory's subjects (status, evaluations, best loss, FC r, structural baseline), read-only."""

    BINDINGS = [Binding("escape", "back", "Back", show=False)]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"reading study {self.path}…", id="study-note")
        yield SubjectsTable(id="subjects")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"study {self.path}"
        self.query_one(SubjectsTable).focus()
        self.poll()

    def on_unmount(self) -> None:
        self._stop.set()

    @work(thread=True, exclusive=True, group="study-poll")
    def poll(self) -> None:
        """Read the study's subjects every ``POLL_S`` seconds until the screen goes."""
        worker = get_current_worker()
        baselines: dict = {}
        while not worker.is_cancelled and not self._stop.is_set():
            try:
                rows, problem = study_rows(self.path, baselines), None
            except (RunError, OSError) as e:
                rows, problem = None, str(e)
            if worker.is_cancelled or self._stop.is_set():
                return
            self.app.call_from_thread(self.show_rows, rows, problem)
            self._stop.wait(POLL_S)

    def show_rows(self, rows: list | None, problem: str | None = None) -> None:
        """Fill the table (``engine.study.table.SubjectRow``) and the line above it."""
        note = self.query_one("#study-note", Static)
        if rows is None:
            note.update(f"[red]{problem}[/]")
            return
        self.query_one(SubjectsTable).set_rows(rows)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        told = " · ".join(f"{n} {s}" for s, n in counts.items())
        weak = sum(1 for r in rows if no_better_than_structure(r))
        if weak:
            told += f" · [bold yellow]{weak} no better than structure alone (≤)[/]"
        back = " · esc: back" if len(self.app.screen_stack) > 1 else ""
        note.update(f"study {self.path}: {len(rows)} subject(s) · {told} · enter: open a subject{back}")

    def on_subjects_table_subject_opened(self, event: SubjectsTable.SubjectOpened) -> None:
        row = event.row
        if not row.has_run:  # type: ignore[attr-defined]
            self.notify(f"{row.name} has not started yet", severity="warning", timeout=3)  # type: ignore[attr-defined]
            return
        self.app.post_message(OpenRun(str(row.path)))  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to the screen below (the app's first screen stays)."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
