"""Writing a run: the recorder, the single writer of a run directory, and ``record`` that creates one."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.config import NOISE_STREAM_VERSION, FitConfig
from engine.data.dataset import Dataset
from engine.events import (
    ActorsUpdated,
    BatchEvaluated,
    Cancelled,
    Ended,
    Event,
    Failed,
    Finished,
    NewBest,
    Started,
    Warned,
)
from engine.runs.files import atomic_write, json_bytes, npy_bytes, write_all, write_error
from engine.runs.layout import (
    ACTORS,
    BEST,
    BEST_FC_DIR,
    BEST_SIGNAL,
    CONFIG,
    DATASET_ARRAYS,
    DATASET_INFO,
    DEFAULT_ROOT,
    FORMAT,
    FORMAT_VERSION,
    LOG,
    MANIFEST,
    MARKER,
    STATUS,
    TARGET_FC,
    WARNINGS,
    RunError,
    RunWriteError,
    finite_or_none,
    read_json,
    summary_to_dict,
)
from engine.runs.lock import acquire_lock

_TERMINAL_STATUS = {Finished: "finished", Cancelled: "stopped", Failed: "failed"}


class _Checkpointer:
    """Saves the optimizer after every told batch, with a manifest holding its SHA-256."""

    def __init__(self, recorder: "Recorder") -> None:
        self._rec = recorder

    def save(self, *, proposer: bytes, evaluations: int, batches: int) -> None:
        """Write the pickled optimizer atomically, then its manifest, then drop the previous checkpoint."""
        self._rec._save_checkpoint(proposer, evaluations, batches)


class Recorder:
    """The single writer of a run directory; feed it every event and pass ``checkpointer`` to the search."""

    def __init__(self, path: Path, config: FitConfig, lock_fd: int, *, base_wall_s: float = 0.0,
                 evaluations: int = 0, nan_candidates: int = 0, best: Mapping[str, Any] | None = None,
                 previous_checkpoint: str | None = None) -> None:
        self.path = path
        self.config = config
        self.notes: list[str] = []
        self.checkpointer = _Checkpointer(self)
        self._lock_fd: int | None = lock_fd
        self._base_wall = base_wall_s
        self._t0 = time.perf_counter()
        self._evaluations = evaluations
        self._nan = nan_candidates
        self._best = dict(best) if best else None
        self._prev_ckpt = previous_checkpoint
        self._error: RunWriteError | None = None
        self._terminal = False
        self._status: dict[str, Any] = read_json(path / STATUS) or {}
        try:
            self._log_fd = os.open(path / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._warn_fd = os.open(path / WARNINGS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            self._release()
            raise write_error(path, e) from None

    @property
    def name(self) -> str:
        """The run's name (its directory name)."""
        return self.path.name

    @property
    def error(self) -> RunWriteError | None:
        """The write error that broke the recording, if any."""
        return self._error

    def _wall(self) -> float:
        return self._base_wall + time.perf_counter() - self._t0

    def _append(self, fd: int, rows: Sequence[Mapping[str, Any]]) -> None:
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
        try:
            write_all(fd, data)
            os.fsync(fd)
        except OSError as e:
            raise write_error(self.path, e) from None

    def write_status(self, **changes: Any) -> None:
        """Update the run's status file with ``changes`` (and the time of the update)."""
        self._status.update(changes)
        self._status["updated"] = time.time()
        atomic_write(self.path / STATUS, json_bytes(self._status), run=self.path)

    def listener(self, event: Event) -> None:
        """Record one event; raises RunWriteError when the directory cannot be written (the fit then fails)."""
        terminal = isinstance(event, Ended)
        if self._error is not None and not terminal:
            raise self._error
        try:
            self._record(event)
        except RunWriteError as e:
            self._error = self._error or e
            if not terminal:
                raise

    def _record(self, event: Event) -> None:
        if isinstance(event, Started):
            starts = list(self._status.get("starts") or [])
            starts.append(event.time)
            self.write_status(status="running", pid=os.getpid(), host=socket.gethostname(), device=event.device,
                               started=self._status.get("started") or event.time, starts=starts,
                               evaluations_done=event.evaluations_done, summary=None, reason=None, ended=None)
            if self.config.split:  # the fitted target is the training scans' FC (the dataset's keeps every scan)
                atomic_write(self.path / TARGET_FC, npy_bytes(np.asarray(event.target_fc, np.float64)), run=self.path)
        elif isinstance(event, BatchEvaluated):
            rows = [{"evaluation": event.first_evaluation + i, "batch": event.batch_index,
                     "batch_size": len(event.losses),
                     "params": {n: float(v) for n, v in zip(event.names, event.values[i])},
                     "loss": float(event.losses[i]), "flag": event.flags[i], "time": event.time,
                     "wall_s": float(event.wall_s), "compile_s": float(event.compile_s),
                     **({} if event.corr is None else {"fc_corr": finite_or_none(event.corr[i])}),
                     **({"terms": {k: finite_or_none(v[i]) for k, v in event.terms.items()}} if event.terms else {}),
                     **({"edges": self.config.edges} if self.config.edges != "all" else {}),
                     **({"realizations": self.config.realizations} if self.config.realizations > 1 else {})}
                    for i in range(len(event.losses))]
            self._append(self._log_fd, rows)
            self._evaluations = event.evaluations
            self._nan += sum(1 for f in event.flags if f)
        elif isinstance(event, NewBest):
            (self.path / BEST_FC_DIR).mkdir(exist_ok=True)
            atomic_write(self.path / BEST_FC_DIR / f"{event.evaluation:08d}.npy", npy_bytes(event.model_fc),
                         run=self.path)
            self._best = {"evaluation": event.evaluation, "params": dict(event.params), "loss": event.loss,
                          "fc_corr": event.fc_corr, "terms": {k: finite_or_none(v) for k, v in event.terms.items()},
                          "time": event.time}
            atomic_write(self.path / BEST, json_bytes(self._best), run=self.path)
            if event.model_signal is not None and event.sample_tr_s is not None:  # the best's BOLD, for its FCD
                buf = io.BytesIO()
                np.savez(buf, signal=np.asarray(event.model_signal, np.float32), tr_s=float(event.sample_tr_s),
                         evaluation=int(event.evaluation))
                atomic_write(self.path / BEST_SIGNAL, buf.getvalue(), run=self.path)
        elif isinstance(event, ActorsUpdated):
            atomic_write(self.path / ACTORS, json_bytes({"batch": event.batch_index, "time": event.time,
                                                          "simulated_seconds": event.simulated_seconds,
                                                          "actors": [r.to_dict() for r in event.rows]}),
                         run=self.path)
        elif isinstance(event, Warned):
            self._append(self._warn_fd, [{"message": event.message, "evaluations": self._evaluations,
                                          "time": event.time}])
        elif isinstance(event, Ended):
            self._terminal = True
            s = event.summary
            if s.held_out:  # the held-out check of the best, after its candidates (readers skip rows without one)
                self._append(self._log_fd, [{"held_out": dict(s.held_out), "time": event.time}])
            self.write_status(status=_TERMINAL_STATUS[type(event)], reason=s.reason, ended=event.time,
                               summary=summary_to_dict(s), evaluations=s.evaluations)

    def _save_checkpoint(self, blob: bytes, evaluations: int, batches: int) -> None:
        if self._error is not None:
            raise self._error
        try:
            name = None
            if blob:
                name = f"checkpoint-{batches:06d}.pkl"
                atomic_write(self.path / name, blob, run=self.path)
            manifest = {"format": FORMAT, "version": FORMAT_VERSION, "file": name,
                        "sha256": hashlib.sha256(blob).hexdigest() if blob else None, "size": len(blob),
                        "evaluations": int(evaluations), "batches": int(batches), "wall_s": self._wall(),
                        "nan_candidates": self._nan, "best": self._best, "time": time.time()}
            atomic_write(self.path / MANIFEST, json_bytes(manifest), run=self.path)
        except RunWriteError as e:
            self._error = e
            raise
        if self._prev_ckpt and self._prev_ckpt != name:
            try:
                (self.path / self._prev_ckpt).unlink()
            except OSError:
                pass
        self._prev_ckpt = name

    def _release(self) -> None:
        for attr in ("_log_fd", "_warn_fd"):
            fd = getattr(self, attr, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, None)
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            except OSError:
                pass
            self._lock_fd = None

    def close(self) -> None:
        """Release the lock; a run closed without a terminal event is marked crashed (it can be resumed)."""
        if self._lock_fd is None:
            return
        if not self._terminal:
            try:
                self.write_status(status="crashed", reason="the fit ended without a final event", ended=time.time())
            except RunWriteError:
                pass
        self._release()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise RunError(f"invalid run name {name!r}: use letters, digits, '-' or '_' (no '/' and no leading '.')")
    return name


def _dataset_info(dataset: Dataset) -> dict[str, Any]:
    return {"name": dataset.name, "source": dataset.source, "n_nodes": dataset.n_nodes,
            "n_scans": dataset.n_scans, "n_timepoints": dataset.n_timepoints, "tr_s": dataset.tr_s,
            "labels": list(dataset.labels) if dataset.labels else None,
            "target_fc_sha256": hashlib.sha256(np.ascontiguousarray(dataset.target_fc, np.float64).tobytes()).hexdigest()}


def _new_run_dir(root: Path, name: str | None, optimizer: str) -> Path:
    """Create a new run directory under ``root``: ``name``, else the time and the optimizer (-2, -3 … when taken)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunWriteError(f"cannot create run root {root}: {e.strerror or e}") from None
    if name is not None:
        path = root / _valid_name(name)
        try:
            path.mkdir()
        except FileExistsError:
            raise RunError(f"a run named {path.name!r} already exists in {root}; choose another name "
                           "or resume it") from None
        except OSError as e:
            raise write_error(path, e) from None
        return path
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{optimizer}"
    for i in range(1, 1000):
        path = root / (stem if i == 1 else f"{stem}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as e:
            raise write_error(path, e) from None
    raise RunError(f"cannot find a free run name for {stem} in {root}")  # pragma: no cover


def record(config: FitConfig, dataset: Dataset, *, out: str | Path | None = None,
           name: str | None = None) -> Recorder:
    """Create a run directory under ``out`` (default ./wcfit-runs), lock it and write the config and target FC."""
    path = _new_run_dir(Path(out).expanduser() if out else DEFAULT_ROOT, name, config.optimizer)
    try:
        fd = acquire_lock(path)
    except RunError:
        shutil.rmtree(path, ignore_errors=True)
        raise
    try:
        now = time.time()
        atomic_write(path / CONFIG, (config.to_json() + "\n").encode(), run=path)
        atomic_write(path / DATASET_INFO, json_bytes(_dataset_info(dataset)), run=path)
        buf = io.BytesIO()
        scans: dict[str, Any] = {f"BOLD_{i}": scan for i, scan in enumerate(dataset.scans)}  # scans may differ in length
        group: dict[str, Any] = {k: v for k, v in (("hemisphere", dataset.hemisphere), ("fcd_values", dataset.fcd_values),
                                   ("fcd_window_tr", dataset.fcd_window_tr), ("fcd_step_tr", dataset.fcd_step_tr),
                                   ("fcd_values_within", dataset.fcd_values_within))
                 if v is not None}
        np.savez(buf, Cmat=dataset.cmat, Dmat=dataset.dmat, target_fc=dataset.target_fc, **scans, **group)
        atomic_write(path / DATASET_ARRAYS, buf.getvalue(), run=path)
        atomic_write(path / TARGET_FC, npy_bytes(dataset.target_fc), run=path)
        atomic_write(path / STATUS, json_bytes({"status": "running", "pid": os.getpid(),
                                                 "host": socket.gethostname(), "created": now,
                                                 "started": None, "updated": now}), run=path)
        # the marker last: a directory that carries it is complete, so a follower never sees it half-made
        atomic_write(path / MARKER, json_bytes({"format": FORMAT, "version": FORMAT_VERSION, "created": now,
                                                 "tool": "wcfit-tui", "noise_stream": NOISE_STREAM_VERSION}),
                     run=path)
        return Recorder(path, config, fd)
    except RunWriteError:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        raise
