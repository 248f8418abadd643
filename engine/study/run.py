"""Running a study: one ordinary run directory per subject, under one study directory with a ``study.json`` manifest.

Each scan is one subject (``--per scan``, the bundled HCP data: one scan per subject), or scans are grouped by a
``subjects`` array of the data file, one id per scan (``--per subject``). A subject's target FC comes from its
own scans only (``engine.study.subjects``); the manifest and the subjects' statuses are ``engine.study.manifest``,
the results table ``engine.study.export``. Subjects run one after another locally, or concurrently on a Ray cluster
(one subject per actor at a time). Running the study again resumes it as a whole: finished subjects are skipped,
stopped, failed or crashed ones resumed from their checkpoints, new ones started.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.cluster.actors import actor_lost_errors, kill_actors, start_actors
from engine.cluster.connection import ClusterError, connect
from engine.cluster.objective import ClusterBatchResult
from engine.cluster.plan import plan_slots
from engine.config import FitConfig
from engine.data.dataset import Dataset, load_dataset
from engine.events import Summary, Warned
from engine.runner import RecordedFit
from engine.runs import MARKER, record, record_existing
from engine.search import FitError
from engine.study.export import export_rows, export_study
from engine.study.manifest import (
    FORMAT,
    FORMAT_VERSION,
    STUDY_FILE,
    SubjectStatus,
    create_study,
    is_study,
    load_study,
    subject_statuses,
)
from engine.study.subjects import PER, Subject, split_subjects, subject_dataset

__all__ = [  # the study's public names, importable from here as before the split
    "FORMAT", "FORMAT_VERSION", "PER", "STUDY_FILE", "Study", "Subject", "SubjectStatus", "create_study",
    "export_rows", "export_study", "is_study", "load_study", "split_subjects", "subject_dataset",
    "subject_statuses",
]


class _ActorObjective:
    """One subject's objective on one cluster actor: whole batches, compiled there for this subject's target."""

    def __init__(self, ray: Any, handle: Any, where: str, key: str, dataset: Dataset, config: FitConfig) -> None:
        self._ray, self._handle, self._key = ray, handle, key
        self._dataset, self._config = dataset, config
        self._lost_errors = actor_lost_errors(ray)
        self.where = where
        self.lost = False
        self._compiled = False
        self.description = f"Ray actor on {where}, batch {config.batch}"

    @property
    def compiled(self) -> bool:
        """Whether this subject's objective is compiled on the actor."""
        return self._compiled

    def _get(self, ref: Any) -> Any:
        try:
            return self._ray.get(ref)
        except self._lost_errors as e:
            self.lost = True
            raise FitError(f"the cluster actor on {self.where} died ({type(e).__name__})") from None

    def compile(self) -> float:
        """Build and compile this subject's objective on the actor."""
        if self._compiled:
            return 0.0
        out = self._get(self._handle.load.remote(self._key, self._dataset, self._config, self._config.batch))
        self._compiled = True
        return float(out["compile_s"])

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> ClusterBatchResult:
        """Score a whole batch on the actor."""
        compile_s = self.compile()
        t0 = time.perf_counter()
        out = self._get(self._handle.score.remote(self._key, np.asarray(values, np.float32), first_lane))
        return ClusterBatchResult(losses=out["losses"], flags=tuple(out["flags"]), best_index=int(out["best_index"]),
                                  best_fc=np.asarray(out["best_fc"], np.float64), wall_s=time.perf_counter() - t0,
                                  compile_s=compile_s, terms=dict(out.get("terms") or {}))

    def close(self) -> None:
        """Free the subject's objective on the actor."""
        if not self.lost:
            try:
                self._handle.unload.remote(self._key)
            except Exception:  # noqa: BLE001
                pass


class Study:
    """Runs the subjects of a study directory that are not finished yet, locally or on a Ray cluster."""

    def __init__(self, path: str | Path, *, say: Callable[[str], None] = lambda m: None, quiet: bool = False,
                 runner: Callable[[RecordedFit], Summary | None] = RecordedFit.run) -> None:
        self.path = Path(path).expanduser()
        self.manifest, self.config, self.subjects = load_study(self.path)
        self.say = say  # where progress lines go (a front end's stderr, the app's log)
        self.quiet = quiet  # the front end shows no progress of each subject's fit
        self.runner = runner  # runs one subject's fit locally (a front end's progress bar)
        self._source: Dataset | None = None
        self._lock = threading.Lock()
        self._searches: list[RecordedFit] = []
        self._stop = threading.Event()
        self.outcomes: dict[str, str] = {}

    def _source_dataset(self) -> Dataset:
        with self._lock:
            if self._source is None:
                self._source = load_dataset(self.manifest.get("data") or None)
            return self._source

    def todo(self) -> list[Subject]:
        """Subjects whose runs are pending, stopped, failed or crashed (finished and live ones are skipped)."""
        status = {s.name: s.status for s in subject_statuses(self.path)}
        skipped = [n for n, st in status.items() if st in ("finished", "running")]
        if skipped:
            self.say(f"study {self.path.name}: {len(skipped)} subject(s) finished or running elsewhere, skipped")
        return [s for s in self.subjects if status[s.name] not in ("finished", "running")]

    def _open(self, subject: Subject, **kw: Any) -> RecordedFit:
        """The subject's fit: a new run, or its existing run locked for resuming."""
        run = self.path / subject.name
        with self._lock:
            if (run / MARKER).exists():
                config, dataset, resume, recorder = record_existing(run)
                for note in recorder.notes:
                    self.say(f"{subject.name}: {note}")
                self.say(f"{subject.name}: resuming at evaluation {resume.evaluations} of {config.budget}")
                return RecordedFit(config, dataset, recorder=recorder, resume=resume, notes=recorder.notes, **kw)
        ds = subject_dataset(self._source_dataset(), subject)
        with self._lock:
            recorder = record(self.config, ds, out=self.path, name=subject.name)
        return RecordedFit(self.config, ds, recorder=recorder, **kw)

    def _finished(self, subject: Subject, summary: Summary | None) -> None:
        status = "failed" if summary is None else summary.status
        loss = None if summary is None else summary.best_loss
        self.outcomes[subject.name] = status
        self.say(f"{subject.name}: {status}" + ("" if loss is None else f", best loss {loss:.5f}")
                 + ("" if status != "failed" or summary is None else f" ({summary.reason})"))

    def run_local(self) -> dict[str, str]:
        """Fit the remaining subjects one after another in this process (each with ``runner``)."""
        for subject in self.todo():
            summary = self.runner(self._open(subject))
            self._finished(subject, summary)
            if summary is not None and summary.status == "stopped":
                self.say("study stopped; run it again to resume")
                break
        return self.outcomes

    def run_cluster(self, address: str, cpu_actors: int | None = None) -> dict[str, str]:
        """Fit the remaining subjects concurrently, one per cluster actor at a time; a dead actor's subject is resumed elsewhere."""
        todo = self.todo()
        if not todo:
            return self.outcomes
        ray = connect(address)
        slots = plan_slots(ray.nodes(), cpu_actors)[:len(todo)]
        if not slots:
            raise ClusterError(f"the Ray cluster at {address} offers no CPU or GPU to start an actor on")
        handles = start_actors(ray, slots)
        work: "queue.Queue[Subject]" = queue.Queue()
        for s in todo:
            work.put(s)
        alive = [len(handles)]
        threads = [threading.Thread(target=self._actor_worker, args=(ray, h, f"{s.host} ({s.kind} {i})", work, alive),
                                    daemon=True, name=f"wcfit-study-{i}")
                   for i, (h, s) in enumerate(zip(handles, slots))]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.2)
        except KeyboardInterrupt:
            self.say("stopping every subject after its current batch…")
            self.stop()
            for t in threads:
                t.join()
        finally:
            kill_actors(ray, handles)
        return self.outcomes

    def _actor_worker(self, ray: Any, handle: Any, where: str, work: "queue.Queue[Subject]", alive: list[int]) -> None:
        """One actor's thread: fit subjects from ``work`` until it is empty; when the actor dies, its subject goes
        back to ``work`` for another actor (or, with none left, is reported crashed) and this thread ends."""
        while not self._stop.is_set():
            try:
                subject = work.get_nowait()
            except queue.Empty:
                return
            if not self._fit_on_actor(ray, handle, where, subject):
                continue
            with self._lock:
                alive[0] -= 1
                left = alive[0]
            self.say(f"{subject.name}: its actor on {where} died; "
                     + ("it resumes on another actor" if left else "no actor left: run the study again"))
            if left:
                work.put(subject)
            else:
                self.outcomes[subject.name] = "crashed"
            return

    def _fit_on_actor(self, ray: Any, handle: Any, where: str, subject: Subject) -> bool:
        """Fit one subject on the actor ``handle``: True when the actor died under it, else False (its outcome
        recorded)."""
        say = self.say

        def warned(event: Any, name: str = subject.name) -> None:
            if isinstance(event, Warned):
                say(f"{name}: warning: {event.message}")

        opened: list[RecordedFit] = []
        actor: list[_ActorObjective] = []

        def on_actor(key: str = subject.name) -> _ActorObjective:
            """The subject's objective on this actor, started once its fit is prepared (engine.prepare)."""
            fit = opened[0]
            actor.append(_ActorObjective(ray, handle, where, key, fit.dataset, fit.config))
            return actor[-1]

        try:
            opened.append(self._open(subject, listeners=[warned], objective_factory=on_actor))
        except Exception as e:  # noqa: BLE001 - e.g. a run locked elsewhere: reported, the study goes on
            self.outcomes[subject.name] = "failed"
            self.say(f"{subject.name}: cannot start: {e}")
            return False
        fit = opened[0]
        with self._lock:
            self._searches.append(fit)
        summary = fit.run()  # closes the subject's objective on the actor and its run directory
        if actor and actor[0].lost:
            return True
        self._finished(subject, summary)
        return False

    def stop(self) -> None:
        """Stop the study: running subjects stop after their current batch, no new one starts."""
        self._stop.set()
        with self._lock:
            for s in self._searches:
                s.cancel()
