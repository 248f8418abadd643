"""The main screen: setup, fit panels, candidates and log in tabs; runs the engine in a thread worker."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from engine.events import Event, Summary
from engine.report import build_report
from engine.runs import export
from engine.search import Search
from tui.bridge import EventPump
from tui.screens import explore_actions, export_thread, fit_workers, main_layout
from tui.screens.event_view import EventView
from tui.screens.file_picker import FilePicker
from tui.screens.signals_tab import SignalsTab
from tui.screens.workbench import Workbench
from tui.widgets.bold_panel import BoldPanel
from tui.widgets.candidates import CandidatesTable
from tui.widgets.dashboard import RunPanel, SummaryPanel, TopCandidates
from tui.widgets.device_panel import DeviceLine, DevicePanel
from tui.widgets.explore import ExploreControls, ExploreView
from tui.widgets.fc_heatmap import FCHeatmaps
from tui.widgets.fcd_panel import FCDPanel
from tui.widgets.landscape import Landscape
from tui.widgets.loss_plot import LossPlot
from tui.widgets.run_log import RunLog
from tui.widgets.setup_form import SetupForm
from tui.widgets.status_bar import StatusBar

#: States in which a fit of this screen is under way (until its worker ends).
FITTING = explore_actions.FITTING
#: Why an app started as a viewer (``attach``, ``serve … attach``) does not resume runs.
READ_ONLY = "this app is a read-only viewer: resume with wcfit-tui resume RUN"


class MainScreen(Workbench, SignalsTab, Screen):
    """Everything the app shows; ``attach`` makes it a read-only viewer of an existing run directory."""

    BINDINGS = [
        Binding("f5", "start", "Start"),
        Binding("f6", "stop", "Stop"),
        Binding("ctrl+r", "reset", "Reset"),
        Binding("f7", "export", "Export"),
        Binding("f8", "plot_view", "Plot view"),
        Binding("f2", "tab('setup')", "Setup", show=False),
        Binding("f3", "tab('fit')", "Fit", show=False),
        Binding("f4", "tab('candidates')", "Candidates", show=False),
        Binding("f9", "tab('log')", "Log", show=False),
        Binding("f10", "tab('fc')", "FC", show=False),
        Binding("f11,ctrl+l", "tab('landscape')", "Landscape", show=False),
        Binding("ctrl+t", "cycle_term", "Term", show=False),
        Binding("ctrl+b", "tab('signals')", "FCD/BOLD", show=False),
        Binding("ctrl+n", "explore", "Explore", show=False),
        Binding("ctrl+f", "fit_from_here", "Fit from here", show=False),
        Binding("f12", "runs", "Runs"),
        Binding("escape", "close_run", "Back", show=False),
        Binding("ctrl+o", "browse", "Open data", show=False),
    ]

    def __init__(self, data: str = "bundled", *, attach: str | None = None, probe_devices: bool = True) -> None:
        super().__init__()
        self.data = data
        self.attach = attach
        self.probe_devices = probe_devices
        self.pump = EventPump(self.post_message)
        self.events = EventView(self)
        self.state = "idle"
        self.search: Search | None = None
        self.run_path: str | None = None
        self.summary: Summary | None = None
        self.stop_follow = threading.Event()
        self._fit_worker: Worker | None = None
        self.warnings: list[str] = []
        self.cmat: np.ndarray | None = None  # structural connectivity of the data being fitted (the structure-alone baseline)
        self.best: dict[str, float] | None = None  # the best candidate's fitted parameters so far
        self.quantity = "loss"  # what the loss plot and the landscape show: the loss or one objective term

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="setup" if not self.attach else "fit", id="tabs"):
            with TabPane("Setup", id="setup"):
                with Horizontal(id="controls"):
                    yield Button("Start (F5)", id="start", variant="success", compact=True, disabled=True)
                    yield Button("Stop (F6)", id="stop", variant="error", compact=True, disabled=True)
                    yield Static("", id="start-reason")
                with Horizontal(id="setup-body"):
                    yield SetupForm(self.data, id="form")
                    yield DevicePanel(id="device", probe=self.probe_devices)
            with TabPane("Fit", id="fit"):
                with Vertical(id="dash"):
                    yield SummaryPanel(compact=True, id="summary")  # narrow terminals only
                    with Horizontal(id="fit-panels"):
                        yield LossPlot(id="plot")
                        yield FCHeatmaps(id="heatmaps")
                    with Horizontal(id="dash-bottom"):  # wide terminals only
                        yield TopCandidates(id="top")
                        yield RunPanel(id="runpanel")
                        yield RunLog(id="logtail")
            with TabPane("FC", id="fc"):  # narrow terminals only: the Fit tab has no room for the heatmaps
                yield FCHeatmaps(id="fcmaps")
            with TabPane("Landscape", id="landscape"):
                yield Landscape(id="land")
            with TabPane("FCD/BOLD", id="signals"):
                with Horizontal(id="signals-body"):
                    yield FCDPanel(id="fcd")
                    yield BoldPanel(id="bold")
            with TabPane("Explore", id="explore"):
                yield ExploreView(id="explorer")
            with TabPane("Candidates", id="candidates"):
                yield CandidatesTable(id="table")
            with TabPane("Log", id="log"):
                yield RunLog(id="runlog")
        yield DeviceLine(id="device-line")  # narrow terminals only: the device panel in one line
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(CandidatesTable).reset(())
        self.set_interval(0.1, self._tick)
        self._layout(self.size.width, self.size.height)
        log = self.query_one("#runlog", RunLog)
        self.query_one("#logtail", RunLog).border_title = "Log (F9: all)"
        if self.attach:
            self.query_one(SetupForm).disabled = True
            self.set_state("attached", f"following {self.attach} (read-only)")
            log.line(f"attached to {self.attach} (read-only)")
            self.follow(self.attach)
        else:
            log.line("ready: fill in the setup and press F5 (F1 for help)")

    # -- layout -----------------------------------------------------------------------------
    def on_device_panel_changed(self, message: DevicePanel.Changed) -> None:
        """Keep the compact device line in step with the panel."""
        self.query_one(DeviceLine).update(message.line)

    def on_resize(self, event) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        main_layout.arrange(self, width, height)

    @staticmethod
    def dashboard_sizes(width: int, height: int) -> tuple[int, int]:
        """Wide dashboard: height of the plot/heatmap row and width of the heatmap panel."""
        return main_layout.dashboard_sizes(width, height)

    # -- the form ---------------------------------------------------------------------------
    def on_setup_form_validated(self, event: SetupForm.Validated) -> None:
        if event.dataset is not None and self.state in ("idle",):
            self.heatmaps("set_target", event.dataset.target_fc, event.dataset.labels)  # type: ignore[attr-defined]
        self._refresh_controls()

    def _start_problem(self) -> str | None:
        if self.attach:
            return "attached to a run: read-only"
        if self.state in FITTING:
            return "a fit is running (F6 stops it)"
        form = self.query_one(SetupForm)
        return form.problem

    def _refresh_controls(self) -> None:
        problem = self._start_problem()
        self.query_one("#start", Button).disabled = problem is not None
        self.query_one("#stop", Button).disabled = self.state not in ("preparing", "compiling", "running")
        reason = self.query_one("#start-reason", Static)
        reason.update(f"[red]cannot start:[/] {problem}" if problem else "[green]ready[/]")

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#browse")
    def _browse_pressed(self) -> None:
        self.action_browse()

    # -- actions ----------------------------------------------------------------------------
    def action_start(self) -> None:
        """Start a fit with the form's configuration."""
        problem = self._start_problem()
        if problem:
            self.notify(f"cannot start: {problem}", severity="warning")
            return
        form = self.query_one(SetupForm)
        self.begin_fit(form.config, form.dataset)

    def begin_fit(self, config, dataset) -> None:
        """Start a fit of ``config`` on ``dataset`` (checked by the caller)."""
        self._prepare(config.names, getattr(dataset, "cmat", None), "loading JAX and building the model")
        self._fit_worker = self.run_fit(config, dataset, self.query_one(SetupForm).cluster)

    def resume_refusal(self) -> str | None:
        """Why this screen cannot resume a run now (a read-only viewer, a fit under way), or None."""
        if self.attach:
            return READ_ONLY
        if self.state in FITTING:
            return "a fit is running in this app: stop it first (F6)"
        return None

    def resume_run(self, path: str) -> None:
        """Continue a stopped, failed or crashed run directory here (on the setup form's cluster when one is set)."""
        refusal = self.resume_refusal()
        if refusal:
            self.notify(refusal, severity="warning")
            return
        self._prepare((), None, f"resuming {Path(path).name}")
        self._fit_worker = self.resume_fit(path, self.query_one(SetupForm).cluster)

    def _prepare(self, names: tuple[str, ...], cmat, detail: str) -> None:
        """Clear the last run's results and show the next one preparing in the Fit tab."""
        self.cmat = cmat
        self.clear_results(names)
        self.summary = None
        self.show_summary()
        self.set_state("preparing", detail)
        self.query_one(TabbedContent).active = "fit"

    def action_stop(self) -> None:
        """Stop the running fit before its next batch."""
        if self.state not in ("preparing", "compiling", "running"):
            self.notify("no fit is running", severity="warning")
            return
        if self.search is not None:
            self.search.cancel()
        if self._fit_worker is not None:
            self._fit_worker.cancel()
        self.set_state("stopping", "finishing the current batch")

    def action_reset(self) -> None:
        """Clear the results (not while a fit runs)."""
        if self.state in FITTING:
            self.notify("stop the fit first (F6)", severity="warning")
            return
        form = self.query_one(SetupForm)
        self.clear_results(())
        self.summary, self.run_path = None, None
        self.show_summary()
        self.heatmaps("set_target", None if form.dataset is None else form.dataset.target_fc,  # type: ignore[attr-defined]
                       None if form.dataset is None else form.dataset.labels)
        self.query_one(StatusBar).best = ""
        self.query_one(StatusBar).progress = ""
        self.set_state("idle", "F5 start · F1 help")
        self.query_one(TabbedContent).active = "setup"
        for log in self.query(RunLog):
            log.line("reset")

    def action_export(self) -> None:
        """Export the current run's candidates, summary and FCs, and draw its figure report, into its run directory."""
        if not self.run_path:
            self.notify("no run directory to export from (start a fit first)", severity="warning")
            return
        self.export_run(export, self.run_path)

    @work(thread=True, exclusive=True, group="export")
    def export_run(self, export, path: str, report=build_report) -> None:
        """Run the four exports (candidates, summary, FCs, the labelled best FC) and the figure report in a thread."""
        export_thread.export_all(self, export, path, report)

    def action_plot_view(self) -> None:
        """Cycle the plot between loss and parameter-vs-loss views (in the Landscape tab: the parameter pair)."""
        tabs = self.query_one(TabbedContent)
        if tabs.active == "landscape":
            self.notify(f"landscape: {self.query_one(Landscape).cycle_pair()}", timeout=1.5)
            return
        view = self.query_one(LossPlot).cycle_view()
        tabs.active = "fit"
        self.notify(f"plot: {view}", timeout=1.5)

    def action_tab(self, tab: str) -> None:
        """Show a tab (the FC tab exists on narrow terminals only; elsewhere the Fit tab shows the heatmaps)."""
        if tab == "fc" and not self.has_class("narrow"):
            tab = "fit"
        self.query_one(TabbedContent).active = tab

    def action_browse(self) -> None:
        """Pick a dataset file."""
        if self.attach or self.state not in ("idle", "finished", "stopped", "failed"):
            return
        self.app.push_screen(FilePicker(Path.cwd()), self._picked)

    def _picked(self, path: str | None) -> None:
        if path:
            self.query_one(SetupForm).set_data(path)

    # -- the engine (bodies in tui.screens.fit_workers) ---------------------------------------
    @work(thread=True, exclusive=True, group="fit")
    def run_fit(self, config, dataset, cluster: str | None = None) -> None:
        """Run the search in this thread (its batches on the Ray cluster at ``cluster`` when given)."""
        fit_workers.run_fit(self, config, dataset, cluster)

    @work(thread=True, exclusive=True, group="fit")
    def resume_fit(self, path: str, cluster: str | None = None) -> None:
        """Continue a stopped, failed or crashed run directory from its checkpoint, showing its history first."""
        fit_workers.resume_fit(self, path, cluster)

    @work(thread=True, exclusive=True, group="fit")
    def follow(self, path: str) -> None:
        """Replay and follow an existing run directory (attach mode)."""
        fit_workers.follow_run(self, path)

    def on_unmount(self) -> None:
        self.stop_follow.set()
        if self.search is not None:
            self.search.cancel()

    def recording(self, path: str, note: str = "") -> None:
        self.run_path = path
        for log in self.query(RunLog):
            log.line(f"run directory: {path}")
            if note:
                log.line(note)

    def on_event_pump_events_queued(self, _message: EventPump.EventsQueued) -> None:
        self._drain()

    def _tick(self) -> None:
        self._drain()
        self.query_one(StatusBar).tick()
        self.query_one(ExploreView).tick()

    # -- explore ------------------------------------------------------------------------------
    def action_explore(self) -> None:
        """Show the Explore tab (picking the form's point the first time)."""
        self.query_one(TabbedContent).active = "explore"
        view = self.query_one(ExploreView)
        if view.config is None:
            self.explore_from("form")
        self.query_one(ExploreControls).focus()

    def explore_from(self, source: str) -> None:
        """Explore a point: ``form``, ``best`` or ``row`` (``tui.screens.explore_actions``)."""
        explore_actions.explore_from(self, source)

    def action_fit_from_here(self) -> None:
        """Start a fit around the explored point: Nevergrad asks it first; the bounds stay."""
        explore_actions.fit_from_here(self)

    def _drain(self) -> None:
        for event in self.pump.drain():
            self.show_event(event)

    def show_event(self, e: Event) -> None:
        """Render one engine event on every widget that cares (``tui.screens.event_view``)."""
        self.events.show(e)

    # -- helpers ----------------------------------------------------------------------------
    def clear_results(self, names: tuple[str, ...]) -> None:
        self.query_one(Landscape).reset(names)
        self.query_one(LossPlot).reset(names)
        self.query_one(CandidatesTable).reset(names)
        self.query_one(TopCandidates).reset(names)
        self.query_one(RunPanel).reset()
        self.query_one(DevicePanel).set_actors(())
        self.heatmaps("clear_model")
        self.clear_signals()
        self.best = None
        self.warnings = []

    def heatmaps(self, method: str, *args) -> None:
        """Call ``method`` on both heatmap panels (the Fit tab's, and the FC tab's used on narrow terminals)."""
        for hm in self.query(FCHeatmaps):
            getattr(hm, method)(*args)

    def show_summary(self) -> None:
        """Show (or hide, with no summary) the end-of-run result in the dashboard and the narrow summary."""
        self.query_one(SummaryPanel).show(self.summary, self.warnings)
        self.query_one(RunPanel).set_summary(self.summary, self.warnings)

    def set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.query_one(StatusBar).set_state(state, detail)
        self.sub_title = state
        self._refresh_controls()
