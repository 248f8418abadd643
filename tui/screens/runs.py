"""The Runs screen: run directories as ``wcfit-tui runs`` lists them; open one, or compare several side by side."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from engine.runs import DEFAULT_ROOT, RunError, list_runs
from engine.study.table import list_studies
from tui.navigation import OpenRun, ResumeRun
from tui.run_history import load_run
from tui.widgets.best_curves import BestCurves
from tui.widgets.compare_table import CompareTable
from tui.widgets.runs_table import RunsTable


class RunsScreen(Screen):
    """Lists the runs under ``root`` (default ./wcfit-runs); enter opens one, space marks, c compares the marked."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "compare", "Compare marked"),
        Binding("f5", "resume", "Resume"),
        Binding("r", "refresh", "Refresh"),
        Binding("l", "tab('runs-list')", "List", show=False),
    ]

    def __init__(self, root: str | None = None) -> None:
        super().__init__()
        self.root = root
        self.curves: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="runs-list", id="runs-tabs"):
            with TabPane("Runs", id="runs-list"):
                yield Static("reading run directories…", id="runs-note")
                yield RunsTable(id="runs-table")
            with TabPane("Compare", id="compare"):
                with Vertical(id="compare-body"):
                    yield BestCurves(id="curves")
                    yield CompareTable(id="compare-table")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "runs"
        self.action_refresh()

    # -- listing ----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        """Read the run directories again (in a thread: a big log takes a moment to count)."""
        self.list_runs()

    @work(thread=True, exclusive=True, group="runs-list")
    def list_runs(self) -> None:
        """``engine.runs.list_runs`` in a thread; the table is filled on the UI thread."""
        where = self.root or str(DEFAULT_ROOT)
        try:
            runs, problem = list_runs(self.root), None
            runs = sorted(runs + list_studies(self.root), key=lambda r: (r.started or 0.0, r.name))
        except (RunError, OSError) as e:
            runs, problem = [], str(e)
        self.app.call_from_thread(self.show_runs, runs, where, problem)

    def show_runs(self, runs: list, where: str, problem: str | None = None) -> None:
        """Fill the table with ``runs`` (``RunInfo``) found in ``where``."""
        table = self.query_one(RunsTable)
        table.set_runs(runs)
        if self.query_one(TabbedContent).active == "runs-list":
            table.focus()
        note = (f"{problem}" if problem else f"{len(runs)} run(s) in {where}") + \
            " · enter: open (live or replay) · F5: resume · space: mark · c: compare marked · r: refresh · esc: back"
        self.query_one("#runs-note", Static).update(note)
        self.sub_title = f"{len(runs)} runs"

    # -- opening and comparing --------------------------------------------------------------
    def on_runs_table_run_opened(self, event: RunsTable.RunOpened) -> None:
        self.app.post_message(OpenRun(str(event.path)))

    def action_resume(self) -> None:
        """Continue the stopped, failed or crashed run under the cursor on the app's first screen."""
        table = self.query_one(RunsTable)
        path = table.current_path()
        info = next((r for r in table.runs if str(r.path) == path), None)
        self.app.post_message(ResumeRun(str(path), resume_problem(info)))

    def on_runs_table_marks_changed(self, event: RunsTable.MarksChanged) -> None:
        self.notify(f"{len(event.paths)} run(s) marked · c compares them", timeout=1.5)

    def action_compare(self) -> None:
        """Load the marked runs (or the one under the cursor) and show them in the Compare tab."""
        table = self.query_one(RunsTable)
        current = table.current_path()
        paths = list(table.marked) or ([current] if current else [])
        if not paths:
            self.notify("no runs to compare: mark some with space", severity="warning")
            return
        infos = {str(r.path): r for r in table.runs if r.status != "study"}  # a study opens (enter), not compares
        self.load_curves([infos[p] for p in paths if p in infos])
        self.query_one(TabbedContent).active = "compare"

    @work(thread=True, exclusive=True, group="runs-compare")
    def load_curves(self, infos: list) -> None:
        """Read the runs' logs in a thread; show them when all are read."""
        curves, failed = [], []
        for info in infos:
            try:
                curves.append(load_run(info))
            except Exception as e:  # noqa: BLE001 - one unreadable run must not hide the others
                failed.append(f"{info.name}: {e}")
        self.app.call_from_thread(self.show_curves, curves, failed)

    def show_curves(self, curves: list, failed: Sequence[str] = ()) -> None:
        """Overlay the curves and fill the comparison table."""
        self.curves = list(curves)
        self.query_one(BestCurves).set_curves(self.curves)
        self.query_one(CompareTable).set_curves(self.curves)
        for f in failed:
            self.notify(f"cannot read {f}", severity="error", timeout=6)

    def action_tab(self, tab: str) -> None:
        """Show a tab."""
        self.query_one(TabbedContent).active = tab
        if tab == "runs-list":
            self.query_one(RunsTable).focus()

    def action_back(self) -> None:
        """Back to the fit."""
        self.app.pop_screen()


def resume_problem(info) -> str | None:
    """Why the listed run ``info`` (``RunInfo``, or None) cannot be resumed, or None when it can."""
    if info is None:
        return "no run under the cursor"
    if info.status == "study":
        return f"a study resumes as a whole: wcfit-tui resume {info.path}"
    if info.status == "finished":
        return f"{info.name} is finished (budget spent): nothing to resume"
    if info.status == "running":
        return f"{info.name} is running (PID {info.pid}): enter opens it live"
    return None
