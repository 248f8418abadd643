"""Studies: one ordinary run directory per subject, under one study directory with a ``study.json`` manifest.

Each scan is one subject (``--per scan``, the bundled HCP data: one scan per subject), or scans are grouped by a
``subjects`` array of the data file, one id per scan (``--per subject``). A subject's target FC comes from its
own scans only. Subjects run one after another locally, or concurrently on a Ray cluster (one subject per actor
at a time). Running the study again resumes it as a whole: finished subjects are skipped, stopped, failed or
crashed ones resumed from their checkpoints, new ones started.
"""

from __future__ import annotations

import csv
import io
import json
import math
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from engine.cluster.objective import (
    ClusterBatchResult,
    ClusterError,
    actor_lost_errors,
    connect,
    kill_actors,
    plan_slots,
    start_actors,
)
from engine.config import ConfigError, FitConfig
from engine.data.compare import matrix_corr
from engine.data.dataset import (
    DataError,
    Dataset,
    functional_connectivity,
    load_dataset,
    read_arrays,
)
from engine.events import Summary, Warned
from engine.runner import RecordedFit
from engine.runs import (
    DATASET_ARRAYS,
    LOG,
    MARKER,
    TARGET_FC,
    RunError,
    atomic_write,
    best_fc_of,
    candidate_rows,
    load_npy,
    read_log,
    record,
    record_existing,
    run_info,
)
from engine.runs.export import export_path
from engine.search import FitError
from engine.study.scoring import VERDICT_COLUMNS, scoring_columns

STUDY_FILE = "study.json"
FORMAT = "wcfit-study"
FORMAT_VERSION = 1
PER = ("scan", "subject")


@dataclass(frozen=True, kw_only=True)
class Subject:
    """One subject of a study: its run name and the dataset scans that make its target FC."""

    name: str
    scans: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class SubjectStatus:
    """Where one subject's run stands."""

    name: str
    scans: tuple[int, ...]
    path: Path
    status: str  # pending | running | finished | stopped | failed | crashed
    evaluations: int
    budget: int
    best_loss: float | None
    best_params: dict[str, float] | None


def is_study(path: str | Path) -> bool:
    """Whether ``path`` is a study directory (holds a study.json)."""
    try:
        return (Path(path).expanduser() / STUDY_FILE).is_file()
    except OSError:
        return False


def subject_ids(source: str) -> list[str] | None:
    """The data file's ``subjects`` array (one id per scan), or None when it has none."""
    if not source or source.strip().lower() in ("", "bundled") or source.startswith("kaggle:"):
        return None
    raw = read_arrays(Path(source).expanduser())
    ids = raw.get("subjects") if hasattr(raw, "get") else None
    if ids is None:
        return None
    return [str(x) for x in np.asarray(ids).ravel().tolist()]


def split_subjects(dataset: Dataset, per: str, ids: Sequence[str] | None = None) -> list[Subject]:
    """The study's subjects: one per scan, or scans grouped by their subject id."""
    if dataset.n_scans == 0 or not dataset.scans:
        raise DataError(f"{dataset.name} has no BOLD scans (only a precomputed FC): a study needs one scan per subject")
    if per not in PER:
        raise ConfigError(f"--per takes scan or subject, got {per!r}")
    n = len(dataset.scans)
    if per == "scan" or ids is None:
        return [Subject(name=f"subject-{i:03d}", scans=(i,)) for i in range(n)]
    if len(ids) != n:
        raise DataError(f"the data's subjects array has {len(ids)} ids for {n} scans")
    groups: dict[str, list[int]] = {}
    for i, sid in enumerate(ids):
        groups.setdefault(sid, []).append(i)
    out = []
    for sid, scans in groups.items():
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", sid).strip("_") or "x"
        out.append(Subject(name=f"subject-{safe}", scans=tuple(scans)))
    return out


def subject_dataset(dataset: Dataset, subject: Subject) -> Dataset:
    """The dataset of one subject: the same structure, the target FC of its own scans only."""
    scans = tuple(dataset.scans[i] for i in subject.scans)
    fc = np.mean([functional_connectivity(s.T) for s in scans], axis=0)
    return Dataset(name=f"{dataset.name} {subject.name}", source=dataset.source, cmat=dataset.cmat,
                   dmat=dataset.dmat, target_fc=fc, n_scans=len(scans), n_timepoints=min(s.shape[1] for s in scans),
                   scans=scans, tr_s=dataset.tr_s, labels=dataset.labels, hemisphere=dataset.hemisphere)


# ---------------------------------------------------------------------------
# the manifest


def create_study(out: str | Path, config: FitConfig, dataset: Dataset, subjects: Sequence[Subject],
                 per: str) -> dict[str, Any]:
    """Write a new study directory's manifest; returns it."""
    path = Path(out).expanduser()
    if path.exists() and any(path.iterdir()):
        raise RunError(f"{path} exists and is not a study directory; choose another --out")
    path.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "created": time.time(), "data": config.data,
                "dataset": dataset.name, "per": per, "config": config.to_dict(),
                "subjects": [{"name": s.name, "scans": list(s.scans)} for s in subjects]}
    atomic_write(path / STUDY_FILE, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), run=path)
    return manifest


def load_study(path: str | Path) -> tuple[dict[str, Any], FitConfig, list[Subject]]:
    """The manifest, configuration and subjects of a study directory."""
    p = Path(path).expanduser()
    try:
        manifest = json.loads((p / STUDY_FILE).read_text())
    except FileNotFoundError:
        raise RunError(f"{p} is not a study directory (no {STUDY_FILE})") from None
    except (OSError, ValueError) as e:
        raise RunError(f"cannot read {p / STUDY_FILE}: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"{p / STUDY_FILE} is not a study manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise RunError(f"{p} has study format version {manifest.get('version')!r}; this wcfit-tui reads {FORMAT_VERSION}")
    config = FitConfig.from_dict(manifest["config"])
    subjects = [Subject(name=str(s["name"]), scans=tuple(int(i) for i in s["scans"])) for s in manifest["subjects"]]
    return manifest, config, subjects


def subject_statuses(path: str | Path) -> list[SubjectStatus]:
    """Every subject of a study with its run's status ('pending' before its run exists)."""
    p = Path(path).expanduser()
    _, config, subjects = load_study(p)
    out = []
    for s in subjects:
        run = p / s.name
        info = None
        if (run / MARKER).exists():
            try:
                info = run_info(run)
            except RunError:
                info = None
        out.append(SubjectStatus(name=s.name, scans=s.scans, path=run, status=info.status if info else "pending",
                                 evaluations=info.evaluations if info else 0, budget=config.budget,
                                 best_loss=None if info is None or info.best_loss is None else float(info.best_loss),
                                 best_params=dict(info.best_params) if info and info.best_params else None))
    return out


# ---------------------------------------------------------------------------
# running


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

        def worker(handle: Any, where: str) -> None:
            while not self._stop.is_set():
                try:
                    subject = work.get_nowait()
                except queue.Empty:
                    return
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
                    continue
                fit = opened[0]
                with self._lock:
                    self._searches.append(fit)
                summary = fit.run()  # closes the subject's objective on the actor and its run directory
                if actor and actor[0].lost:
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
                self._finished(subject, summary)

        threads = [threading.Thread(target=worker, args=(h, f"{s.host} ({s.kind} {i})"), daemon=True,
                                    name=f"wcfit-study-{i}") for i, (h, s) in enumerate(zip(handles, slots))]
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

    def stop(self) -> None:
        """Stop the study: running subjects stop after their current batch, no new one starts."""
        self._stop.set()
        with self._lock:
            for s in self._searches:
                s.cancel()


# ---------------------------------------------------------------------------
# export


def export_rows(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per subject: best parameters, loss, each logged term, FC correlation, structural baseline."""
    p = Path(path).expanduser()
    _, config, _ = load_study(p)
    names = list(config.names)
    rows: list[dict[str, Any]] = []
    term_names: list[str] = []
    for s in subject_statuses(p):
        row: dict[str, Any] = {"subject": s.name, "scans": " ".join(map(str, s.scans)), "status": s.status,
                               "evaluations": s.evaluations, "budget": s.budget}
        best = None
        target = cmat = None
        if s.status != "pending":
            logged = candidate_rows(read_log(s.path / LOG))
            best = min(logged, key=lambda r: r["loss"]) if logged else None
            target = load_npy(s.path / TARGET_FC)
            try:
                with np.load(s.path / DATASET_ARRAYS, allow_pickle=False) as z:
                    cmat = np.asarray(z["Cmat"], np.float64)
            except (OSError, KeyError, ValueError):
                cmat = None
        for n in names:
            row[n] = None if best is None else float(best["params"].get(n, math.nan))
        row["loss"] = None if best is None else float(best["loss"])
        for t, v in dict((best or {}).get("terms") or {}).items():
            if t not in term_names:
                term_names.append(t)
            row[f"term_{t}"] = float(v)
        fc = best_fc_of(s.path, int(best["evaluation"])) if best is not None else None
        row["fc_corr"] = matrix_corr(fc, target) if fc is not None and target is not None else None
        row["structural_baseline"] = matrix_corr(cmat, target) if cmat is not None and target is not None else None

        row.update(scoring_columns(s.path, config, best))
        row["run"] = str(s.path)
        rows.append(row)
    columns = ["subject", "scans", "status", "evaluations", "budget", *names, "loss",
               *(f"term_{t}" for t in term_names), "fc_corr", "structural_baseline",
               *(["edges"] if config.edges != "all" else []),
               *(["train_fc_corr", "test_fc_corr", "train_ks", "test_ks", "test_structural_baseline"]
                 if config.split or config.test_data else []), *VERDICT_COLUMNS, "run"]
    return columns, rows


def export_study(path: str | Path, fmt: str = "csv", out: str | Path | None = None) -> Path:
    """Write the per-subject table as CSV (or JSON) to ``out`` (default STUDY/export/study.csv)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise RunError(f"a study exports --csv or --json, not {fmt}")
    p = Path(path).expanduser()
    columns, rows = export_rows(p)
    dest = export_path(p, out, f"study.{fmt}")
    if fmt == "json":
        data = (json.dumps(rows, indent=2) + "\n").encode()
    else:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns])
        data = buf.getvalue().encode()
    atomic_write(dest, data)
    return dest
