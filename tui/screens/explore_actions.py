"""The main screen's Explore actions: which point to explore (the form's, the best, a table row) and fitting from it.

Functions of the screen, kept out of it so that the screen only binds keys to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from textual.widgets import TabbedContent

from engine import presets
from engine.config import ConfigError
from tui.widgets.candidates import CandidatesTable
from tui.widgets.explore import ExploreControls, ExploreView
from tui.widgets.loss_plot import LossPlot
from tui.widgets.setup_form import SetupForm

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

#: States in which a fit of the main screen is under way (until its worker ends).
FITTING = ("preparing", "compiling", "running", "stopping")


def explore_from(screen: MainScreen, source: str) -> None:
    """Explore a point: ``form`` (the preset's point, else the middle of the bounds), ``best`` or ``row``."""
    form = screen.query_one(SetupForm)
    config, dataset = form.config, form.dataset
    point: dict[str, float] | None = None
    if source in ("best", "row") and screen.signals_config is not None:
        config = screen.signals_config  # the run's own settings: its candidates belong to them
    if config is None or dataset is None:
        screen.notify(f"cannot explore: {form.problem or 'no dataset'}", severity="warning")
        return
    if source == "form":
        point = presets.point_within(config.preset, config.names, config.bounds)
    elif source == "best":
        summary = screen.summary
        best = summary.best_params if summary is not None and summary.best_params else screen.best
        if not best:
            screen.notify("no best candidate yet", severity="warning")
            return
        point = dict(best)
    else:
        point = row_point(screen)
        if point is None:
            screen.notify("no candidate row: pick one in the Candidates tab (F4) first", severity="warning")
            return
    screen.query_one(TabbedContent).active = "explore"
    screen.query_one(ExploreView).explore(config, dataset, point)
    screen.query_one(ExploreControls).focus()


def row_point(screen: MainScreen) -> dict[str, float] | None:
    """The fitted parameters of the Candidates table's cursor row."""
    table = screen.query_one(CandidatesTable)
    if not table.row_count:
        return None
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    history = screen.query_one(LossPlot).history
    hit = np.flatnonzero(history.evaluations == int(key or 0) + 1)  # row keys count from 0
    if not hit.size:
        return None
    return dict(zip(history.names, map(float, history.values[hit[0]])))


def fit_from_here(screen: MainScreen) -> None:
    """Start a fit around the explored point: Nevergrad asks it first; the bounds stay."""
    view = screen.query_one(ExploreView)
    if view.config is None or not view.point:
        screen.notify("explore a point first (Ctrl+N)", severity="warning")
        return
    if screen.attach or screen.state in FITTING:
        screen.notify("a fit is running or attached: stop it first", severity="warning")
        return
    try:
        config = view.config.replace(start=view.point)
    except ConfigError as e:
        screen.notify(f"cannot fit from here: {e}", severity="warning")
        return
    screen.notify("fit from " + " ".join(f"{k}={v:.4g}" for k, v in view.point.items()), timeout=3)
    screen.begin_fit(config, view.dataset)
