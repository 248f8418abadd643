"""The recorded-fit runner: the one orchestration every front end uses (the CLI's fit and resume, a study's
subjects, the app and the Python API).

A ``RecordedFit`` owns a fit from its run directory to its end (``prepared`` starts one from ``engine.prepare``): the compilation cache, the recorder (a new run,
or a stopped one locked for resuming), the objective (local, or a Ray cluster's actors), the ``Search`` and
closing the objective and the run directory, whatever happens. Front ends add listeners and decide how to wait.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from engine.cluster.connection import ClusterError, import_ray
from engine.cluster.objective import ClusterObjective
from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.devices import enable_compilation_cache
from engine.events import Listener, Summary, Warned
from engine.protocols import Closable, Objective, Warns
from engine.runs import Recorder, record, record_existing
from engine.search import Resume, Search

if TYPE_CHECKING:
    from engine.prepare import PreparedFit


def cluster_objective(config: FitConfig, dataset: Dataset, address: str, cpu_actors: int | None = None,
                      on_warning: Callable[[str], None] | None = None) -> ClusterObjective:
    """Actors on the Ray cluster at ``address`` scoring this fit's batches (ClusterError, one line, when it cannot)."""
    import_ray()  # before anything else: no Ray → the install hint
    if cpu_actors is not None and cpu_actors < 1:
        raise ClusterError(f"--cpu-actors must be at least 1, got {cpu_actors}")
    return ClusterObjective(dataset, config, address=address, cpu_actors=cpu_actors, on_warning=on_warning)


class RecordedFit:
    """One fit and its run directory (or none): built by ``new`` or ``resumed``, run once by ``run``."""

    def __init__(self, config: FitConfig, dataset: Dataset, *, recorder: Recorder | None = None,
                 resume: Resume | None = None, objective: Objective | None = None, cluster: str | None = None,
                 cpu_actors: int | None = None, listeners: Sequence[Listener] = (), notes: Sequence[str] = (),
                 prepared: PreparedFit | None = None,
                 objective_factory: Callable[[], Objective] | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.recorder = recorder
        self.resume = resume
        self.notes = list(notes)  # what a resume has to say before it starts (e.g. another noise stream)
        factory = objective_factory  # started inside the search (e.g. a study subject's actor)
        if objective is None and cluster:  # started inside the search: a cluster that fails is a failed fit
            factory = lambda: cluster_objective(config, dataset, cluster, cpu_actors, self._warn)  # noqa: E731
        self.search = Search(config, dataset, listeners=[*listeners, *([recorder.listener] if recorder else [])],
                             objective=objective, objective_factory=factory,
                             checkpointer=recorder.checkpointer if recorder else None, resume=resume,
                             prepared=prepared)

    @classmethod
    def new(cls, config: FitConfig, dataset: Dataset, *, record_run: bool = True, out: str | Path | None = None,
            name: str | None = None, **kw: object) -> RecordedFit:
        """A fit from the start, recorded into a new run directory under ``out`` (none when ``record_run`` is off)."""
        recorder = record(config, dataset, out=out, name=name) if record_run else None
        return cls(config, dataset, recorder=recorder, **kw)  # type: ignore[arg-type]

    @classmethod
    def prepared(cls, prepared: PreparedFit, **kw: object) -> RecordedFit:
        """A fit from the start of a prepared fit (``engine.prepare``): its settings, data, targets and checks."""
        return cls.new(prepared.config, prepared.dataset, prepared=prepared, **kw)  # type: ignore[arg-type]

    @classmethod
    def resumed(cls, path: str | Path, **kw: object) -> RecordedFit:
        """A stopped, failed or crashed run continued from its checkpoint with its own settings and data."""
        config, dataset, resume, recorder = record_existing(path)
        try:
            return cls(config, dataset, recorder=recorder, resume=resume, notes=recorder.notes, **kw)  # type: ignore[arg-type]
        except BaseException:
            recorder.close()
            raise

    @property
    def path(self) -> Path | None:
        """The run directory, or None when the fit is not recorded."""
        return None if self.recorder is None else self.recorder.path

    @property
    def listeners(self) -> list[Listener]:
        """The search's listeners (add one before ``run``)."""
        return self.search.listeners

    @property
    def summary(self) -> Summary | None:
        """The fit's summary once it has ended."""
        return self.search.summary

    def cancel(self) -> None:
        """Stop after the current batch (from any thread)."""
        self.search.cancel()

    def _warn(self, message: str) -> None:
        for listener in self.search.listeners:
            listener(Warned(message=message))

    def run(self) -> Summary:
        """Run the fit in this thread to its end, then close its objective and its run directory."""
        try:
            try:  # cheap; a second fit with the same settings then loads the compiled objective from disk
                enable_compilation_cache()
            except Exception as e:  # noqa: BLE001 - the fit works without the cache, only slower to start
                self._warn(f"JAX compilation cache not enabled: {type(e).__name__}: {e}")
            if isinstance(self.search.objective, Warns):  # e.g. a cluster actor died mid-batch
                self.search.objective.on_warning = self._warn
            summary = self.search.run()
        finally:
            try:
                if isinstance(self.search.objective, Closable):  # a cluster's actors
                    self.search.objective.close()
            finally:
                if self.recorder is not None:
                    self.recorder.close()
        return summary

    def start(self) -> threading.Thread:
        """Run the fit in a daemon thread; returns the thread."""
        thread = threading.Thread(target=self.run, name="wcfit-search", daemon=True)
        thread.start()
        return thread

