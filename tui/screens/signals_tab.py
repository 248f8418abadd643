"""The Signals tab of the main screen (FCD and BOLD of the best candidate against the data), as a mixin.

It also finds the run's region labels (the form's dataset, or an attached run's dataset.json) and gives them
to the FC heatmaps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from engine.data.dataset import load_dataset
from engine.events import NewBest, Started
from engine.runs.export import run_labels
from engine.runs.layout import resolve_run
from tui import signals
from tui.signals import is_sampled
from tui.widgets.bold_panel import BoldPanel
from tui.widgets.fc_heatmap import FCHeatmaps
from tui.widgets.fcd_panel import NO_SAMPLES, FCDPanel

if TYPE_CHECKING:
    from textual.screen import Screen as _Screen  # the mixin's host: its query, query_one and app
else:
    _Screen = object


class SignalsTab(_Screen):
    """Keeps the run's model and empirical signals and draws them on the FCD and BOLD panels."""

    signals_config = None
    _signals_model: "signals.Model | None" = None
    _signals_data: "signals.Empirical | None" = None
    _signals_labels: tuple[str, ...] | None = None

    def start_signals(self, e: Started) -> None:
        """A run starts: forget the model side; find the labels and (sampled runs) the empirical side in a thread."""
        self.signals_config, self._signals_model = e.config, None
        if not is_sampled(e.config):
            self._signals_data = None
        self._draw_signals()
        self._load_empirical(e.config)

    @work(thread=True, exclusive=True, group="signals")
    def _load_empirical(self, config) -> None:
        """The region labels, and the empirical scans' FCD for the run's window and step (sampled runs only)."""
        attach = getattr(self, "attach", None)
        form_ds = getattr(self.query_one("#form"), "dataset", None)
        dataset = form_ds if form_ds is not None and not attach else None
        labels = getattr(dataset, "labels", None)
        if attach:
            labels = _run_labels(attach)
        emp = None
        if is_sampled(config):
            if dataset is None:
                try:
                    dataset = load_dataset(config.data)
                except Exception:  # noqa: BLE001 - the panels then show the model alone
                    dataset = None
            emp = signals.empirical(config, dataset) if dataset is not None else None
            labels = labels or getattr(dataset, "labels", None)
        self.app.call_from_thread(self._empirical_ready, config, emp, labels)

    def _empirical_ready(self, config, emp, labels) -> None:
        if config is not self.signals_config:
            return  # another run started meanwhile
        self._signals_data, self._signals_labels = emp, labels
        for hm in self.query(FCHeatmaps):
            hm.set_labels(labels)
        self._draw_signals()

    def new_best_signals(self, e: NewBest) -> None:
        """The best candidate changed: its sampled signal becomes the model side."""
        config = self.signals_config
        if config is None or not is_sampled(config):
            return
        self._signals_model = signals.model(config, getattr(e, "model_signal", None), getattr(e, "sample_tr_s", None))
        self._draw_signals()

    def _draw_signals(self) -> None:
        config = self.signals_config
        note = "" if config is None or is_sampled(config) else NO_SAMPLES
        for fcd in self.query(FCDPanel):
            fcd.show(self._signals_model, self._signals_data, note)
        for bold in self.query(BoldPanel):
            bold.set(self._signals_model, self._signals_data, self._signals_labels, note)

    def clear_signals(self) -> None:
        self._signals_model = None
        self._draw_signals()


def _run_labels(run) -> tuple[str, ...] | None:
    """The region labels stored in a run directory's dataset.json, or None."""
    try:
        return run_labels(resolve_run(run))
    except Exception:  # noqa: BLE001 - no labels: the heatmaps show numbers
        return None
