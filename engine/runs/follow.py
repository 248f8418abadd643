"""Following a run read-only: replay its log as events and keep reading until it ends or crashes."""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from engine.config import FitConfig
from engine.events import (
    ActorRow,
    ActorsUpdated,
    BatchEvaluated,
    Cancelled,
    Event,
    Failed,
    Finished,
    NewBest,
    Started,
    Summary,
    Warned,
)
from engine.runs.layout import (
    ACTORS,
    DATASET_INFO,
    LOG,
    STATUS,
    TARGET_FC,
    WARNINGS,
    RunError,
    best_fc_of,
    candidate_rows,
    check_marker,
    load_config,
    load_npy,
    parse_lines,
    read_json,
    resolve_run,
    row_corr,
    row_terms,
    summary_from_dict,
)
from engine.runs.lock import lock_holder


def _batch_event(rows: Sequence[Mapping[str, Any]], names: tuple[str, ...], config: FitConfig,
                 best_loss: float) -> BatchEvaluated:
    values = np.array([[float(r["params"].get(n, math.nan)) for n in names] for r in rows], np.float64)
    losses = np.array([float(r["loss"]) for r in rows], np.float64)
    wall = float(rows[0].get("wall_s", 0.0))
    w = max(wall, 1e-9)
    names_t = list(dict.fromkeys(k for r in rows for k in (r.get("terms") or {})))
    terms = {k: np.array([row_terms(r).get(k, math.nan) for r in rows], np.float64) for k in names_t}
    corrs = [row_corr(r, config) for r in rows]
    corr = None if all(c is None for c in corrs) else np.array([math.nan if c is None else c for c in corrs])
    return BatchEvaluated(batch_index=int(rows[0]["batch"]), first_evaluation=int(rows[0]["evaluation"]),
                          names=names, values=values, losses=losses, flags=tuple(str(r.get("flag", "")) for r in rows),
                          wall_s=wall, compile_s=float(rows[0].get("compile_s", 0.0)),
                          evaluations=int(rows[-1]["evaluation"]) + 1, candidates_per_s=len(rows) / w,
                          sim_s_per_s=len(rows) * config.simulated_seconds / w, best_loss=best_loss,
                          terms=terms, corr=corr, time=float(rows[-1].get("time", time.time())))


def replay(path: str | Path) -> Iterator[Event]:
    """A run's events as its files hold them now (Started, batches, bests, warnings), with no terminal event."""
    return follow(path, threading.Event(), once=True)


def follow(path: str | Path, stop: threading.Event, poll_s: float = 0.5, *, once: bool = False) -> Iterator[Event]:
    """Replay a run's events and keep following it until a terminal status or ``stop`` (``once``: replay only)."""
    run = resolve_run(path)
    check_marker(run)
    config = load_config(run)
    target = load_npy(run / TARGET_FC)
    info = read_json(run / DATASET_INFO) or {}
    status = read_json(run / STATUS) or {}
    if target is None:
        raise RunError(f"cannot read the target FC of {run}")
    yield Started(config=config, target_fc=target, dataset=str(info.get("name", "")),
                  device=str(status.get("device") or ""), evaluations_done=0,
                  time=float(status.get("started") or status.get("created") or time.time()))
    reader = _Reader(run, config, target)
    while not stop.is_set():
        yield from reader.drain()
        if once:  # what is on disk now, without a terminal event
            yield from reader.all_warnings()
            return
        status = read_json(run / STATUS) or {}
        state = status.get("status")
        crashed = state in ("running", "crashed") and lock_holder(run) is None
        if state in ("finished", "stopped", "failed") or crashed:
            # the log is complete before the status is written: read what is left, then end
            yield from reader.drain()
            yield from reader.all_warnings()
            if crashed:
                yield Failed(summary=_crashed_summary(run, config, status, reader.evaluations, reader.best))
                return
            summary = summary_from_dict(status.get("summary") or {"status": state, "names": list(config.names)})
            endings: dict[str, type[Finished] | type[Cancelled] | type[Failed]] = {
                "finished": Finished, "stopped": Cancelled, "failed": Failed}
            yield endings[str(state)](summary=summary, time=float(status.get("ended") or time.time()))
            return
        stop.wait(poll_s)


class _Reader:
    """What a follower has read of one run so far: log and warnings offsets, batches waiting for their rows, the best."""

    def __init__(self, run: Path, config: FitConfig, target: np.ndarray) -> None:
        self.run, self.config, self.target = run, config, target
        self.offset = 0
        self.inode: int | None = None
        self.pending: dict[int, dict[int, dict[str, Any]]] = {}  # batch -> evaluation -> row
        self.emitted: set[int] = set()
        self.evaluations = 0
        self.best: dict[str, Any] | None = None
        self.last_fc: np.ndarray | None = None
        self.warn_offset = 0
        self.warnings: list[dict[str, Any]] = []
        self.actors_seen: tuple[int, int] | None = None  # (mtime_ns, size) of the actors file last read

    def drain(self) -> Iterator[Event]:
        """Every event the files hold beyond what was read before: whole batches in order, bests, warnings, actors."""
        self._read_log()
        self._read_warnings()
        yield from self._complete_batches()
        yield from self._actors()

    def all_warnings(self) -> Iterator[Warned]:
        """The warnings read and not yet emitted (at the end of a run)."""
        for w in self.warnings:
            yield _warned(w)

    def _read_log(self) -> None:
        log = self.run / LOG
        try:
            st = os.stat(log)
        except FileNotFoundError:
            return
        if self.inode is not None and (st.st_ino != self.inode or st.st_size < self.offset):
            self.offset = 0  # the log was rewritten by a resume: read again, skipping emitted batches
        self.inode = st.st_ino
        try:
            with open(log, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            data = b""
        rows, used = parse_lines(data)
        self.offset += used
        for r in candidate_rows(rows):
            if isinstance(r.get("batch"), int) and r["batch"] not in self.emitted:
                self.pending.setdefault(r["batch"], {})[r["evaluation"]] = r

    def _read_warnings(self) -> None:
        try:
            with open(self.run / WARNINGS, "rb") as f:
                f.seek(self.warn_offset)
                wrows, wused = parse_lines(f.read())
        except OSError:
            return
        self.warn_offset += wused
        self.warnings.extend(w for w in wrows if isinstance(w.get("message"), str))

    def _complete_batches(self) -> Iterator[Event]:
        names = self.config.names
        for b in sorted(self.pending):
            rows_b = [self.pending[b][e] for e in sorted(self.pending[b])]
            if len(rows_b) < int(rows_b[0].get("batch_size", len(rows_b))):
                break  # the rest of this batch is not on disk yet
            if rows_b[0]["evaluation"] != self.evaluations:
                break  # an earlier batch is still missing
            del self.pending[b]
            self.emitted.add(b)
            improved = None
            for r in rows_b:
                if self.best is None or r["loss"] < self.best["loss"]:
                    self.best = improved = r
            self.evaluations = int(rows_b[-1]["evaluation"]) + 1
            yield _batch_event(rows_b, names, self.config, float(self.best["loss"]))  # type: ignore[index]
            if improved is not None:
                yield self._new_best(improved)
            while self.warnings and int(self.warnings[0].get("evaluations", 0)) <= self.evaluations:
                yield _warned(self.warnings.pop(0))

    def _new_best(self, row: Mapping[str, Any]) -> NewBest:
        fc = best_fc_of(self.run, int(row["evaluation"]))
        self.last_fc = fc if fc is not None else self.last_fc
        return NewBest(evaluation=int(row["evaluation"]),
                       params={n: float(row["params"].get(n, math.nan)) for n in self.config.names},
                       loss=float(row["loss"]),
                       model_fc=self.last_fc if self.last_fc is not None else np.full_like(self.target, np.nan),
                       terms=row_terms(row), corr=row_corr(row, self.config),
                       time=float(row.get("time", time.time())))

    def _actors(self) -> Iterator[Event]:
        try:
            st_a = os.stat(self.run / ACTORS)
        except OSError:
            return
        if (st_a.st_mtime_ns, st_a.st_size) != self.actors_seen:
            self.actors_seen = (st_a.st_mtime_ns, st_a.st_size)
            event = _actors_event(self.run)
            if event is not None:
                yield event


def _warned(row: Mapping[str, Any]) -> Warned:
    """A warning as the warnings log holds it."""
    return Warned(message=row["message"], time=float(row.get("time", time.time())))


def _crashed_summary(run: Path, config: FitConfig, status: Mapping[str, Any], evaluations: int,
                     best: Mapping[str, Any] | None) -> Summary:
    return Summary(status="crashed", reason=f"the process writing the run (PID {status.get('pid', '?')}) died; "
                                            f"resume it with: wcfit-tui resume {run}",
                   names=config.names, best_params=dict(best["params"]) if best else None,
                   best_loss=float(best["loss"]) if best else None, recommendation=None, recommendation_loss=None,
                   evaluations=evaluations, nan_candidates=0,
                   wall_s=float(status.get("updated") or 0) - float(status.get("started") or status.get("updated") or 0),
                   device=str(status.get("device") or ""))


def _actors_event(run: Path) -> ActorsUpdated | None:
    """The cluster actors recorded in a run's actors file (None when unreadable)."""
    try:
        d = read_json(run / ACTORS) or {}
        rows = tuple(ActorRow.from_dict(r) for r in d.get("actors") or ())
    except (RunError, TypeError, AttributeError):
        return None
    batch = d.get("batch")
    return ActorsUpdated(rows=rows, batch_index=batch if isinstance(batch, int) else None,
                         simulated_seconds=float(d.get("simulated_seconds") or 0.0),
                         time=float(d.get("time") or time.time()))
