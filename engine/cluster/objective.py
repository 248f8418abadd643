"""One fit across the devices of a Ray cluster: the search loop stays here, Ray actors score shares of each batch.

One actor per device: each GPU of each host (``num_gpus=1``), and one actor per CPU-only host holding its cores
(``cpu_actors`` splits a CPU host into several). Each actor builds and compiles an ``engine.model.objective.Objective``
once, for its capacity (an equal share of the batch, padded to its own lane layout), and scores contiguous shares
of each batch; a share larger than its capacity runs as several calls. Candidate ``j`` of a batch keeps its
evaluation number ``first_lane + j`` on whichever actor scores it, and noise is keyed by evaluation number, so the
losses do not depend on the number of actors. Shares follow each actor's measured seconds per call (list
scheduling: every next block goes where it would finish first). An actor or host that dies mid-batch: its share
is rescored on the others, ``on_warning`` says so, and the batch is returned whole; each candidate's loss is
taken exactly once.

Ray is optional (``pip install -e ".[cluster]"``) and imported only when a cluster is asked for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from engine.cluster.actors import Scorer, actor_lost_errors, kill_actors, start_actors
from engine.cluster.connection import INSTALL_HINT, ClusterError, connect, import_ray, reachable
from engine.cluster.info import cluster_info_lines
from engine.cluster.plan import Slot, plan_shares, plan_slots
from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.events import ActorRow
from engine.text import one_line

#: Weight of the newest call in an actor's running seconds-per-call estimate.
SPEED_WEIGHT = 0.5


@dataclass
class _Actor:
    index: int
    slot: Slot
    handle: Any
    info: dict[str, Any] = field(default_factory=dict)
    lanes: int = 0
    seconds_per_call: float | None = None
    candidates_per_s: float | None = None
    share: int = 0
    batches: int = 0
    state: str = "starting"
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ClusterBatchResult:
    """Scores of one batch assembled from the actors' shares (the BatchResult protocol, plus overhead)."""

    losses: np.ndarray
    flags: tuple[str, ...]
    best_index: int
    best_fc: np.ndarray
    wall_s: float
    compile_s: float
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    corr: np.ndarray | None = None  # (B,) FC correlation r, NaN where flagged
    overhead_s: float = 0.0  # driver wall time beyond the slowest actor's own compute
    best_signal: np.ndarray | None = None  # actors send no sampled signal back
    best_signals: np.ndarray | None = None  # (R, S, N) the best candidate's sampled signals (a held-out test KS)


class _Batch:
    """One batch's scores as the actors' shares come back: each candidate filled once, the best one so far."""

    def __init__(self, n: int, actors: list[_Actor]) -> None:
        self.losses = np.full(n, np.nan)
        self.flags: list[str] = [""] * n
        self.filled = np.zeros(n, bool)
        self.terms: dict[str, np.ndarray] = {}
        self.corr = np.full(n, np.nan)
        self.with_terms = np.zeros(n, bool)
        self.with_corr = np.zeros(n, bool)
        self.best: tuple[float, int, np.ndarray] | None = None
        self.best_signals: np.ndarray | None = None
        self.share = {a.index: 0 for a in actors}
        self.actor_wall = {a.index: 0.0 for a in actors}

    def take(self, a: _Actor, start: int, stop: int, out: dict[str, Any]) -> None:
        """The scores of candidates ``start:stop`` from actor ``a``."""
        n = len(self.losses)
        assert not self.filled[start:stop].any(), "a candidate was scored twice"
        self.filled[start:stop] = True
        self.losses[start:stop] = out["losses"]
        self.flags[start:stop] = list(out["flags"])
        for t, v in (out.get("terms") or {}).items():
            self.terms.setdefault(t, np.full(n, np.nan))[start:stop] = v
        self.with_terms[start:stop] = bool(out.get("terms"))
        if out.get("corr") is not None:
            self.corr[start:stop] = out["corr"]
            self.with_corr[start:stop] = True
        b = int(out["best_index"])
        cand = (float(out["losses"][b]), start + b, np.asarray(out["best_fc"], np.float64))
        if self.best is None or cand[:2] < self.best[:2]:
            self.best = cand
            self.best_signals = out.get("best_signals")
        self.share[a.index] += stop - start
        self.actor_wall[a.index] += float(out["wall_s"])

    def result(self, *, wall_s: float, compile_s: float, overhead_s: float) -> ClusterBatchResult:
        """The whole batch's result (every candidate filled)."""
        assert self.best is not None
        # an actor without terms: none rather than half (a NaN term is a flagged candidate's)
        terms = self.terms if self.with_terms.all() else {}
        return ClusterBatchResult(losses=self.losses, flags=tuple(self.flags), best_index=self.best[1],
                                  best_fc=self.best[2], wall_s=wall_s, compile_s=compile_s, terms=terms,
                                  corr=self.corr if self.with_corr.all() else None, overhead_s=overhead_s,
                                  best_signals=self.best_signals)


class ClusterObjective:
    """Scores batches on every device of a Ray cluster; the same protocol as ``engine.model.objective.Objective``."""

    def __init__(self, dataset: Dataset, config: FitConfig, *, address: str, cpu_actors: int | None = None,
                 on_warning: Callable[[str], None] | None = None, key: str = "fit",
                 start_timeout_s: float = 120.0) -> None:
        self.config = config
        self.dataset = dataset
        self.names = config.names
        self.address = address
        self.on_warning = on_warning
        self.key = key
        self.start_timeout_s = start_timeout_s
        self.last_overhead_s: float | None = None
        self._lock = threading.Lock()
        self._ray = connect(address)
        slots = plan_slots(self._ray.nodes(), cpu_actors)
        if not slots:
            raise ClusterError(f"the Ray cluster at {address} offers no CPU or GPU to start an actor on")
        handles = start_actors(self._ray, slots)
        self._actors = [_Actor(index=i, slot=s, handle=h) for i, (s, h) in enumerate(zip(slots, handles))]
        self._capacity = -(-config.batch // len(self._actors))
        self._infos = {a.index: a.handle.describe.remote() for a in self._actors}
        self._compiled = False

    # -- protocol ---------------------------------------------------------

    @property
    def description(self) -> str:
        """Where batches run, e.g. 'Ray 127.0.0.1:6379: 2 actors (2 CPU on 1 host), batch 64'."""
        alive = [a for a in self._actors if a.state != "dead"]
        kinds: dict[str, int] = {}
        for a in alive:
            k = str(a.info.get("device", "GPU")).split("× ")[-1] if a.slot.kind == "gpu" else "CPU"
            kinds[k] = kinds.get(k, 0) + 1
        what = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "none alive"
        hosts = len({a.slot.node_id for a in alive})
        return (f"Ray {self.address}: {len(alive)} actor{'s' * (len(alive) != 1)} ({what} on {hosts} "
                f"host{'s' * (hosts != 1)}), batch {self.config.batch}")

    @property
    def compiled(self) -> bool:
        """Whether every live actor has compiled its objective."""
        return self._compiled

    def compile(self) -> float:
        """Start-up: every actor reports itself, builds and compiles its objective; returns the seconds it took."""
        if self._compiled:
            return 0.0
        t0 = time.perf_counter()
        ray = self._ray
        placed, _ = ray.wait(list(self._infos.values()), num_returns=len(self._infos), timeout=self.start_timeout_s)
        for a in self._actors:
            if self._infos[a.index] not in placed and a.state != "dead":
                self._lose(a, "not placed: no free resources on its node")
                ray.kill(a.handle)
        refs = {a.index: a.handle.load.remote(self.key, self.dataset, self.config, self._capacity)
                for a in self._actors if a.state != "dead"}
        for a in self._actors:
            if a.index not in refs:
                continue
            try:
                info = ray.get(self._infos[a.index])
                loaded = ray.get(refs[a.index])
            except actor_lost_errors(ray) as e:
                self._lose(a, f"could not start ({one_line(e).split(':')[0]})")
                continue
            except ray.exceptions.RayTaskError as e:
                raise ClusterError(f"actor {a.index} on {a.slot.host} could not build the objective: "
                                   f"{one_line(e.cause if getattr(e, 'cause', None) else e)}") from None
            with self._lock:
                a.info = dict(info)
                a.lanes = int(loaded["lanes"])
                a.state = "ready"
                a.note = loaded["layout"]
        if not self._alive():
            notes = "; ".join(sorted({a.note for a in self._actors if a.note}))
            raise ClusterError(f"no actor of the Ray cluster at {self.address} could start ({notes})")
        if len(self._alive()) < len(self._actors):
            self._warn(f"{len(self._actors) - len(self._alive())} of {len(self._actors)} cluster actors could not "
                       f"start ({'; '.join(sorted({a.note for a in self._actors if a.state == 'dead'}))}); "
                       "the others score every batch")
        self._compiled = True
        return time.perf_counter() - t0

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> ClusterBatchResult:
        """Score candidates (B, P) numbered from ``first_lane`` across the live actors."""
        values = np.asarray(values, np.float32).reshape(-1, len(self.names))
        n = values.shape[0]
        if n < 1:
            raise ValueError("a batch holds at least one candidate")
        t0 = time.perf_counter()
        compile_s = self.compile()
        t1 = time.perf_counter()
        ray = self._ray
        lost = actor_lost_errors(ray)
        batch = _Batch(n, self._actors)
        pending: dict[Any, tuple[_Actor, int, int]] = {}
        self._submit(values, first_lane, 0, n, pending)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            a, start, stop = pending.pop(ref)
            try:
                out = ray.get(ref)
            except lost as e:
                first = a.state != "dead"
                self._lose(a, one_line(e).split(":")[0])
                if first:
                    self._warn(f"cluster actor {a.index} on {a.slot.host} died in the batch from evaluation "
                               f"{first_lane}; its {stop - start} candidate(s) are rescored on the other "
                               f"{len(self._alive())} actor(s) and the fit goes on")
                self._submit(values, first_lane, start, stop, pending)
                continue
            except ray.exceptions.RayTaskError as e:
                cause = getattr(e, "cause", None) or e
                raise ClusterError(f"actor {a.index} on {a.slot.host} failed: {type(cause).__name__}: "
                                   f"{one_line(cause)}") from None
            batch.take(a, start, stop, out)
            self._measured(a, stop - start, out)
        overhead = self._end_batch(batch, time.perf_counter() - t1)
        return batch.result(wall_s=time.perf_counter() - t0 - compile_s, compile_s=compile_s, overhead_s=overhead)

    def _submit(self, values: np.ndarray, first_lane: int, start: int, stop: int,
                pending: dict[Any, tuple[_Actor, int, int]]) -> None:
        """Send candidates ``start:stop`` to the live actors in shares (added to ``pending``)."""
        alive = self._alive()
        if not alive:
            raise ClusterError(f"every actor of the Ray cluster at {self.address} has died; "
                               "the run can be resumed when the cluster is back")
        counts = plan_shares(stop - start, [a.lanes for a in alive], [a.seconds_per_call or 1.0 for a in alive])
        at = start
        for a, c in zip(alive, counts):
            if c:
                ref = a.handle.score.remote(self.key, values[at:at + c], first_lane + at)
                pending[ref] = (a, at, at + c)
                at += c

    def _measured(self, a: _Actor, scored: int, out: dict[str, Any]) -> None:
        """Update an actor's running speed and memory from the share it returned."""
        with self._lock:
            per_call = float(out["wall_s"]) / max(1, int(out["calls"]))
            a.seconds_per_call = per_call if a.seconds_per_call is None else \
                SPEED_WEIGHT * per_call + (1 - SPEED_WEIGHT) * a.seconds_per_call
            speed = scored / max(float(out["wall_s"]), 1e-9)
            a.candidates_per_s = speed if a.candidates_per_s is None else \
                SPEED_WEIGHT * speed + (1 - SPEED_WEIGHT) * a.candidates_per_s
            if out.get("memory_total") is not None:
                a.info["memory_in_use"], a.info["memory_total"] = out["memory_in_use"], out["memory_total"]

    def _end_batch(self, batch: _Batch, wall: float) -> float:
        """Each actor's share of the batch recorded; returns the driver's overhead beyond the slowest actor."""
        assert batch.filled.all() and batch.best is not None
        overhead = max(0.0, wall - max(batch.actor_wall.values()))
        with self._lock:
            for a in self._actors:
                a.share = batch.share.get(a.index, 0)
                if a.share:
                    a.batches += 1
            self.last_overhead_s = overhead
        return overhead

    def model_fc(self, candidate: np.ndarray) -> np.ndarray:
        """The model FC (N, N) of one candidate (P,)."""
        return self(np.asarray(candidate, np.float32).reshape(1, -1)).best_fc

    # -- state for the device panel ---------------------------------------

    def actor_rows(self) -> list[ActorRow]:
        """One row per actor: host, device, memory, lanes, last share, throughput, state (thread-safe)."""
        with self._lock:
            return [ActorRow(index=a.index, host=str(a.info.get("host", a.slot.host)), ip=a.slot.ip,
                             pid=a.info.get("pid"), device=str(a.info.get("device", a.slot.kind)),
                             platform=str(a.info.get("platform", a.slot.kind)),
                             memory_in_use=a.info.get("memory_in_use"), memory_total=a.info.get("memory_total"),
                             lanes=a.lanes, share=a.share, candidates_per_s=a.candidates_per_s, batches=a.batches,
                             state=a.state, note=a.note) for a in self._actors]

    def actor_handle(self, index: int) -> Any:
        """The Ray handle of one actor (tests kill it with ``ray.kill``)."""
        return self._actors[index].handle

    def close(self) -> None:
        """Stop every actor (the cluster itself keeps running)."""
        open_ = [a for a in self._actors if a.state != "dead"]
        kill_actors(self._ray, [a.handle for a in open_])
        for a in open_:  # an actor lost earlier keeps why it was lost
            a.state, a.note = "dead", "closed"

    # -- internals --------------------------------------------------------

    def _alive(self) -> list[_Actor]:
        return [a for a in self._actors if a.state == "ready"]

    def _lose(self, a: _Actor, why: str) -> None:
        with self._lock:
            a.state = "dead"
            a.note = why

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)


__all__ = ["ActorRow", "ClusterBatchResult", "ClusterError", "ClusterObjective", "INSTALL_HINT", "Scorer", "Slot",
           "actor_lost_errors", "cluster_info_lines", "connect", "import_ray", "kill_actors", "plan_shares",
           "plan_slots", "reachable", "start_actors"]
