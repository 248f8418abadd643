"""The Python API, for notebooks: everything a fit needs from one import.


``load_dataset`` reads any supported data, ``FitConfig`` (or ``preset``) says what to fit, ``fit`` runs the
search in this process (events to a callback, a run directory when asked) and returns its ``Summary``, and
``simulate`` returns one candidate's signals, FC and FCD as NumPy arrays. Nothing here prints.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from engine import presets
from engine.config import FitConfig
from engine.data.dataset import Dataset, load_dataset
from engine.events import Event, Summary
from engine.model.simulate import Simulation, simulate
from engine.prepare import prepare_fit
from engine.runner import RecordedFit

__all__ = ["Dataset", "Event", "FitConfig", "Simulation", "Summary", "fit", "load_dataset", "preset", "resume",
           "simulate"]


def preset(name: str = presets.DEFAULT, **settings: Any) -> FitConfig:
    """A preset's configuration (``bold`` or ``tutorial``), with ``settings`` overriding its fields."""
    return presets.get(name).config(**settings)


def _wait(run: RecordedFit) -> Summary:
    """Run in a worker thread and wait; an interrupt (a notebook's stop button) stops after the current batch."""
    done = threading.Event()

    def work() -> None:
        try:
            run.run()
        finally:
            done.set()

    thread = threading.Thread(target=work, name="wcfit-search", daemon=True)
    thread.start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        run.cancel()
        done.wait()
    thread.join()
    assert run.summary is not None
    return run.summary


def fit(config: FitConfig, dataset: Dataset | str | None = None, *, on_event: Callable[[Event], None] | None = None,
        run_dir: str | Path | None = None, name: str | None = None, cluster: str | None = None) -> Summary:
    """Fit ``config`` to ``dataset`` (a Dataset, a source for ``load_dataset``, or None: ``config.data``).

    The fit is prepared as the command line prepares it (``engine.prepare``: a group's FCD window, the targets, the
    held-out checks): settings the data cannot fit raise ConfigError or DataError (one line) before anything runs.
    ``on_event`` gets every event of the fit (``engine.events``) in the fit's thread; ``run_dir`` records the fit
    into a new run directory under it (resumable, listed by ``wcfit-tui runs``), None records nothing;
    ``cluster`` scores batches on the Ray cluster at that address.
    """
    prepared = prepare_fit(config, dataset=dataset, local=cluster is None)
    run = RecordedFit.prepared(prepared, record_run=run_dir is not None, out=run_dir, name=name, cluster=cluster,
                               listeners=[on_event] if on_event else [])
    return _wait(run)


def resume(run_dir: str | Path, *, on_event: Callable[[Event], None] | None = None,
           cluster: str | None = None) -> Summary:
    """Continue a stopped, failed or crashed run directory from its checkpoint."""
    run = RecordedFit.resumed(run_dir, cluster=cluster, listeners=[on_event] if on_event else [])
    return _wait(run)
