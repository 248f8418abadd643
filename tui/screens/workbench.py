"""The workbench part of the main screen: the landscape, objective terms, the structure-alone baseline and the
Runs screen (a mixin of ``MainScreen``, which holds the key bindings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.data.nulls import best_null
from engine.events import Started
from engine.runs import DATASET_ARRAYS, resolve_run
from tui.baseline import structural_baseline
from tui.landscape_cells import grid_axes
from tui.navigation import OpenRuns
from tui.widgets.landscape import Landscape
from tui.widgets.loss_plot import LossPlot

if TYPE_CHECKING:
    from textual.screen import Screen as _Screen  # the mixin's host: its query_one, notify and app
else:
    _Screen = object


class Workbench(_Screen):
    """Actions and event handling of the workbench views, for ``MainScreen``."""

    quantity: str
    attach: str | None
    cmat: np.ndarray | None

    def action_cycle_term(self) -> None:
        """Show the next quantity on the loss plot and the landscape: the loss, then each objective term."""
        quantities = self.query_one(LossPlot).history.quantities
        if len(quantities) < 2:
            self.notify("this run's events carry no objective terms: only the loss", timeout=2)
            return
        i = quantities.index(self.quantity) if self.quantity in quantities else -1
        self.quantity = quantities[(i + 1) % len(quantities)]
        self.query_one(LossPlot).set_quantity(self.quantity)
        self.query_one(Landscape).set_quantity(self.quantity)
        self.notify(f"showing: {self.quantity}", timeout=1.5)

    def action_runs(self) -> None:
        """Open the Runs screen: list run directories, open one, compare several."""
        self.app.post_message(OpenRuns())

    def action_close_run(self) -> None:
        """Leave a run opened from the Runs screen (the first screen stays)."""
        if self.attach and len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    def start_workbench(self, e: Started) -> None:
        """A run starts: the landscape's axes (a Grid's cells) and the structure-alone baseline of its data."""
        self.query_one(Landscape).reset(e.config.names, e.config.bounds, grid_axes(e.config))
        r = getattr(e, "structural_baseline", None)
        if r is None and self.cmat is not None:
            r = structural_baseline(self.cmat, e.target_fc)
        objective = getattr(e.config, "objective", None)  # fc-only unless the configuration says otherwise
        loss_is_fc = objective is None or str(objective).replace(" ", "") == "fc"
        top = best_null(getattr(e, "map_baselines", None) or {})
        self.query_one(LossPlot).set_baseline(r, loss_is_fc, top)
        self.query_one(Landscape).set_baseline(r, loss_is_fc, top)


def run_cmat(path: str) -> np.ndarray | None:
    """The structural connectivity stored in a run directory, or None (older runs, unreadable files)."""
    try:
        with np.load(resolve_run(path) / DATASET_ARRAYS) as arrays:
            return np.asarray(arrays["Cmat"], float)
    except Exception:  # noqa: BLE001 - the baseline is a reference line, not worth failing the viewer for
        return None
