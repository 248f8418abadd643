"""The Textual app: a view over the engine's event stream (the work happens in MainScreen's thread worker)."""

from __future__ import annotations

from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from engine.study.manifest import is_study
from tui.navigation import OpenRun, OpenRuns, ResumeRun
from tui.screens.help import HelpScreen
from tui.screens.main import READ_ONLY, MainScreen
from tui.screens.runs import RunsScreen
from tui.screens.study import StudyScreen


class WcfitApp(App):
    """wcfit-tui: fit a whole-brain Wilson–Cowan network to an empirical FC."""

    CSS_PATH = "wcfit.tcss"
    TITLE = "wcfit-tui"
    BINDINGS = [Binding("f1", "help", "Help"), Binding("ctrl+q", "quit", "Quit", priority=True, show=False)]

    def __init__(self, data: str = "bundled", *, attach: str | None = None, probe_devices: bool = True) -> None:
        super().__init__()
        self.data = data
        self.attach = attach
        self.probe_devices = probe_devices

    def get_default_screen(self) -> Screen:
        if self.attach and is_study(self.attach):  # a study: its subjects, each opens as an attached run
            return StudyScreen(self.attach)
        return MainScreen(self.data, attach=self.attach, probe_devices=self.probe_devices)

    # -- navigation: the screens post these, only the App knows the screens --------------------------------------
    def on_open_runs(self, _message: OpenRuns) -> None:
        self.push_screen(RunsScreen())

    def on_open_run(self, message: OpenRun) -> None:
        if is_study(message.path):  # a study: its subjects, each opens as an attached run
            self.push_screen(StudyScreen(message.path))
        else:
            self.push_screen(MainScreen(self.data, attach=message.path, probe_devices=False))

    def on_resume_run(self, message: ResumeRun) -> None:
        base = self.screen_stack[0]  # a study's screen when the app was started on one: a viewer too
        problem = message.problem or (base.resume_refusal() if isinstance(base, MainScreen) else READ_ONLY)
        if problem or not isinstance(base, MainScreen):  # not a MainScreen: problem is READ_ONLY
            self.notify(problem or READ_ONLY, severity="warning", timeout=6)
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        base.resume_run(message.path)

    def action_help(self) -> None:
        """Show the keys."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.screen_stack[0] if isinstance(self.screen_stack[0], MainScreen) else None
        if main is None:
            return
        yield SystemCommand("Start fit", "Start a fit with the setup form's settings (F5)", main.action_start)
        yield SystemCommand("Stop fit", "Stop the running fit within one batch (F6)", main.action_stop)
        yield SystemCommand("Reset", "Clear results and return to the setup (Ctrl+R)", main.action_reset)
        yield SystemCommand("Export run", "Write candidates CSV, summary JSON, FCs NPZ and the figure report "
                            "(HTML + PNGs) to the run dir (F7)",
                            main.action_export)
        yield SystemCommand("Next plot view", "Loss vs evaluation, or a parameter vs loss (F8)", main.action_plot_view)
        yield SystemCommand("Landscape", "The loss over the fitted parameters (F11)",
                            lambda: main.action_tab("landscape"))
        yield SystemCommand("Next term", "Loss plot and landscape: the loss, then each objective term (Ctrl+T)",
                            main.action_cycle_term)
        yield SystemCommand("FCD/BOLD", "FCD and BOLD of the best candidate against the data (Ctrl+B)",
                            lambda: main.action_tab("signals"))
        yield SystemCommand("Explore", "Nudge one candidate's parameters and see its FC, FCD and BOLD (Ctrl+N)",
                            main.action_explore)
        yield SystemCommand("Fit from here", "Fit starting at the explored point (Ctrl+F)", main.action_fit_from_here)
        yield SystemCommand("Runs", "List run directories; open one or compare several (F12)", main.action_runs)
        yield SystemCommand("Keys", "Show the help screen (F1)", self.action_help)
