"""How the main screen shows the engine's events: one handler per event type, looked up along the event's classes.

``EventView`` is owned by the main screen (composition, not a mixin): it keeps what only the event stream needs
(the budget, the progress before a verdict) and reaches the screen's widgets through it. A new event type gets one
handler and one entry in ``HANDLERS``; an event without one is still written to the run logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from engine.events import (
    ActorsUpdated,
    BatchEvaluated,
    Cancelled,
    Compiling,
    Ended,
    Event,
    Failed,
    Finished,
    NewBest,
    SegmentSimulated,
    Started,
    Verifying,
    Warned,
)
from engine.proposers import budget_of
from tui.widgets.candidates import CandidatesTable
from tui.widgets.dashboard import RunPanel, TopCandidates
from tui.widgets.device_panel import DevicePanel
from tui.widgets.landscape import Landscape
from tui.widgets.loss_plot import LossPlot
from tui.widgets.run_log import RunLog
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

#: The screen's state after each kind of ending.
TERMINAL_STATE = {Finished: "finished", Cancelled: "stopped", Failed: "failed"}


def segment_progress(e: SegmentSimulated, budget: int | None) -> str:
    """The status line inside a batch: "batch 3: 120 / 200 s simulated · 32/64 evals"."""
    of = f"/{budget}" if budget is not None else ""
    return (f"batch {e.batch_index + 1}: {e.simulated_ms / 1000:.0f} / {e.duration_ms / 1000:.0f} s simulated · "
            f"{e.evaluations_done}{of} evals")


def best_line(loss: float, terms: dict[str, float], corr: float | None, params: dict[str, float]) -> str:
    """The status bar's best: loss, the terms when there are several, r and the parameters."""
    shown = " · " + " ".join(f"{k} {v:.3f}" for k, v in terms.items()) if len(terms) > 1 else ""
    r = "—" if corr is None else f"{corr:.3f}"
    return f"best loss {loss:.4f}{shown} · r {r} · " + " ".join(f"{k}={v:.4g}" for k, v in params.items())


class EventView:
    """Renders engine events on the main screen's widgets."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.budget: int | None = None  # the fit's evaluations (a grid may hold fewer points than its budget)
        self._progress_before_verdict: str | None = None

    def show(self, e: Event) -> None:
        """Write ``e`` to the run logs and hand it to the handler of its type (or of a base type)."""
        status = self.screen.query_one(StatusBar)
        for log in self.screen.query(RunLog):
            log.event(e)
        for cls in type(e).__mro__:
            handler = HANDLERS.get(cls)
            if handler is not None:
                handler(self, e, status)
                break
        status.refresh()

    def started(self, e: Started, status: StatusBar) -> None:
        """A fit (or a run being followed) started: reset what belongs to other parameters, show its target."""
        screen = self.screen
        if screen.query_one(CandidatesTable).names != e.config.names:
            screen.clear_results(e.config.names)
        screen.heatmaps("set_target", e.target_fc)
        screen.start_workbench(e)
        screen.start_signals(e)
        screen.query_one(RunPanel).set_device(e.device)
        self.budget = budget_of(e.config)
        if not screen.attach:
            screen.set_state("running", f"{e.config.optimizer} on {e.dataset}")
        status.progress = f"{e.evaluations_done}/{self.budget}"

    def compiling(self, e: Compiling, status: StatusBar) -> None:
        """XLA compiles a batch size."""
        if not self.screen.attach:
            self.screen.set_state("compiling", f"JIT for batch {e.batch}")

    def segment(self, e: SegmentSimulated, status: StatusBar) -> None:
        """Progress inside a batch."""
        if self.screen.state == "compiling":
            self.screen.set_state("running", "")
        status.progress = segment_progress(e, self.budget)
        self.screen.query_one(RunPanel).set_segment(status.progress)

    def batch(self, e: BatchEvaluated, status: StatusBar) -> None:
        """A batch was scored: every table and plot gets its candidates."""
        screen = self.screen
        if screen.state == "compiling":
            screen.set_state("running", "")
        # terms that do not give one value per candidate cannot be matched to the rows: leave them out
        terms = {k: v for k, v in (e.terms or {}).items() if len(np.reshape(v, -1)) == len(e.losses)} or None
        screen.query_one(LossPlot).add_batch(e.first_evaluation, e.values, e.losses, e.flags, terms)
        screen.query_one(Landscape).add_batch(e.first_evaluation, e.values, e.losses, e.flags, terms)
        screen.query_one(CandidatesTable).add_batch(e.first_evaluation, e.names, e.values, e.losses, e.flags, terms)
        screen.query_one(TopCandidates).add_batch(e.first_evaluation, e.names, e.values, e.losses, e.flags, terms)
        screen.query_one(RunPanel).set_batch(e.evaluations, self.budget, e.candidates_per_s, e.sim_s_per_s,
                                             e.wall_s, e.compile_s)
        screen.query_one(DevicePanel).set_throughput(e.candidates_per_s, e.sim_s_per_s)
        status.progress = (f"{e.evaluations}/{self.budget if self.budget is not None else '?'} evals · "
                           f"{e.candidates_per_s:.1f} cand/s")

    def new_best(self, e: NewBest, status: StatusBar) -> None:
        """A better candidate: its FC, signals and the status line."""
        self.screen.best = dict(e.params)
        self.screen.heatmaps("set_model", e.model_fc, e.fc_corr)
        self.screen.new_best_signals(e)
        status.best = best_line(e.loss, dict(e.terms or {}), e.fc_corr, dict(e.params))

    def actors(self, e: ActorsUpdated, status: StatusBar) -> None:
        """A cluster's actors changed."""
        self.screen.query_one(DevicePanel).set_actors(e.rows, e.simulated_seconds)

    def verifying(self, e: Verifying, status: StatusBar) -> None:
        """The fresh-noise verdict began: say so until it ends."""
        if not self.screen.attach:
            self.screen.set_state("running", "fresh-noise verdict")
        self._progress_before_verdict = status.progress
        status.progress = f"verdict: {e.seeds} new seeds"

    def warned(self, e: Warned, status: StatusBar) -> None:
        """A warning: a notification, and kept for the summary when it asks to widen the bounds."""
        self.screen.notify(e.message, severity="warning", timeout=6)
        if "widen the bounds" in e.message and e.message not in self.screen.warnings:
            self.screen.warnings.append(e.message)

    def ended(self, e: Ended, status: StatusBar) -> None:
        """The fit ended (finished, stopped or failed): the summary, the state and a notification."""
        screen = self.screen
        s = e.summary
        screen.summary = s
        if self._progress_before_verdict:  # the verdict's note gives way to the last progress
            status.progress, self._progress_before_verdict = self._progress_before_verdict, None
        screen.search = None
        if s.best_loss is not None:
            status.best = best_line(s.best_loss, dict(s.best_terms or {}), s.best_corr, dict(s.best_params or {}))
        screen.set_state(TERMINAL_STATE[type(e)], s.reason)  # type: ignore[index]
        screen.show_summary()
        if isinstance(e, Failed):
            screen.notify(f"fit failed: {s.reason}", severity="error", timeout=10)
        else:
            screen.notify(f"fit {s.status}: {s.evaluations} evaluations", timeout=4)


#: The handler of each event type; an event's own type is looked up first, then its bases.
HANDLERS: dict[type, Callable[[EventView, Any, StatusBar], None]] = {
    Started: EventView.started,
    Compiling: EventView.compiling,
    SegmentSimulated: EventView.segment,
    BatchEvaluated: EventView.batch,
    NewBest: EventView.new_best,
    ActorsUpdated: EventView.actors,
    Verifying: EventView.verifying,
    Warned: EventView.warned,
    Ended: EventView.ended,
}
