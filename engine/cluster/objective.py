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

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.devices import human_bytes
from engine.events import ActorRow
from engine.search import FitError
from engine.text import one_line

#: The one line printed when ``--cluster`` is asked for without Ray installed.
INSTALL_HINT = 'Ray is not installed; --cluster needs it: pip install -e ".[cluster]"'


class _Connection:
    """This process's one connection to a Ray cluster (Ray allows one per process): its address, under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.address: str | None = None


_CONNECTION = _Connection()
#: Weight of the newest call in an actor's running seconds-per-call estimate.
SPEED_WEIGHT = 0.5


class ClusterError(ConfigError, FitError):
    """The cluster cannot be used as asked (no Ray, no connection, no actor left); one line for the user.

    A ConfigError for the CLI (exit code 2 before a fit starts) and a FitError for the search (its message ends
    a fit that is under way as it is)."""


def import_ray() -> Any:
    """The ``ray`` module, or a ClusterError with the install hint."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a HOST:PORT address nobody answers on within seconds (Ray itself would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host or not host:
        return  # e.g. "auto" or a ray:// client address: left to Ray
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {e.strerror or one_line(e)} "
                           "(start it with: ray start --head)") from None


@contextlib.contextmanager
def _file_streams() -> Iterator[None]:
    """Stdout/stderr that are real files while Ray starts (a TUI's capture objects have no file descriptor)."""
    def real(stream: Any) -> bool:
        try:
            return stream is not None and stream.fileno() >= 0
        except (OSError, ValueError, AttributeError):
            return False

    if real(sys.stdout) and real(sys.stderr):
        yield
        return
    saved = sys.stdout, sys.stderr
    with open(os.devnull, "w") as null:
        sys.stdout, sys.stderr = (s if real(s) else null for s in saved)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


def connect(address: str) -> Any:
    """Connect this process to the Ray cluster at ``address`` (once); returns the ``ray`` module."""
    ray = import_ray()
    with _CONNECTION.lock:
        if ray.is_initialized():
            if _CONNECTION.address not in (None, address):
                raise ClusterError(f"this process is connected to the Ray cluster at {_CONNECTION.address}, "
                                   f"not {address}")
            return ray
        reachable(address)
        try:
            with _file_streams():
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as e:  # noqa: BLE001 - connection refused, bad address, version mismatch, …
            raise ClusterError(f"cannot connect to the Ray cluster at {address}: {one_line(e)}") from None
        _CONNECTION.address = address
    return ray


# ---------------------------------------------------------------------------
# where actors go


@dataclass(frozen=True, kw_only=True)
class Slot:
    """One actor to start: the node it is pinned to and the resources it holds."""

    node_id: str
    host: str
    ip: str
    kind: str  # "gpu" | "cpu"
    cpus: int
    gpus: int


def plan_slots(nodes: Sequence[Mapping[str, Any]], cpu_actors: int | None = None) -> list[Slot]:
    """One slot per GPU of each live node; a node without GPUs is one slot with its cores (or ``cpu_actors``)."""
    out: list[Slot] = []
    for n in nodes:
        if not n.get("Alive", True):
            continue
        res = n.get("Resources") or {}
        gpus, cpus = int(res.get("GPU", 0)), int(res.get("CPU", 0))
        base = dict(node_id=str(n.get("NodeID", "")), host=str(n.get("NodeManagerHostname", "?")),
                    ip=str(n.get("NodeManagerAddress", "?")))
        if gpus:
            per = cpus // gpus
            out += [Slot(kind="gpu", cpus=per, gpus=1, **base) for _ in range(gpus)]
        elif cpus:
            k = max(1, min(cpu_actors or 1, cpus))
            out += [Slot(kind="cpu", cpus=cpus // k, gpus=0, **base) for _ in range(k)]
    return out


def plan_shares(n: int, lanes: Sequence[int], seconds: Sequence[float]) -> list[int]:
    """Split ``n`` candidates: each next block of an actor's lanes goes where it would finish first."""
    if not lanes:
        return []
    finish = [0.0] * len(lanes)
    counts = [0] * len(lanes)
    left = n
    while left > 0:
        i = min(range(len(lanes)), key=lambda a: (finish[a] + seconds[a], -lanes[a], a))
        take = min(lanes[i], left)
        counts[i] += take
        finish[i] += seconds[i]
        left -= take
    return counts


# ---------------------------------------------------------------------------
# the actor's body (a plain class: ray.remote wraps it lazily)


def _memory(devices: Sequence[Any]) -> tuple[int | None, int | None]:
    """Bytes in use and limit summed over devices; host RAM for CPU devices (in use: this process's RSS)."""
    used = limit = 0
    for d in devices:
        try:
            stats = d.memory_stats() or {}
        except Exception:  # noqa: BLE001
            stats = {}
        if stats.get("bytes_limit"):
            used += int(stats.get("bytes_in_use", 0))
            limit += int(stats["bytes_limit"])
    if limit:
        return used, limit
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        return rss, total
    except (OSError, ValueError, AttributeError, IndexError):
        return None, None


class Scorer:
    """What runs inside one Ray actor: compiled objectives by key, scoring shares of batches."""

    def __init__(self, kind: str, cpus: int, jax_flags: Mapping[str, Any] | None = None,
                 cache: bool = True) -> None:
        if kind == "cpu" and "jax" not in sys.modules:
            from engine.devices import use_cpu_cores_as_devices  # lazy: in the actor, before JAX starts

            # a CPU slot computes on the CPU: Ray 2.60 leaves CUDA_VISIBLE_DEVICES alone for an actor holding no
            # GPU, and JAX would otherwise take a GPU of a host whose node offers none to Ray (--num-gpus 0)
            os.environ["JAX_PLATFORMS"] = "cpu"
            os.environ["WCFIT_CPU_DEVICES"] = str(max(1, cpus))
            use_cpu_cores_as_devices()  # this actor's cores as JAX devices (before JAX starts)
        import jax

        for name, value in (jax_flags or {}).items():
            jax.config.update(name, value)
        if cache:
            from engine.devices import enable_compilation_cache  # lazy: in the actor

            enable_compilation_cache()
        self._objectives: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        """Host, address, process, devices and memory of this actor."""
        import jax

        devs = jax.local_devices()
        used, limit = _memory(devs)
        kinds = sorted({d.device_kind for d in devs})
        return {"host": socket.gethostname(), "pid": os.getpid(), "platform": devs[0].platform,
                "device": f"{len(devs)}× {'/'.join(kinds)}", "memory_in_use": used, "memory_total": limit}

    def load(self, key: str, dataset: Dataset, config: FitConfig, capacity: int) -> dict[str, Any]:
        """Build and compile the objective for ``key`` with room for ``capacity`` candidates per call."""
        from engine.model.objective import Objective  # lazy: JAX, in the actor

        self._objectives.pop(key, None)
        obj = Objective(dataset, config.replace(batch=max(1, capacity)))
        compile_s = obj.compile()
        self._objectives[key] = obj
        return {"lanes": int(obj.batch), "compile_s": compile_s, "layout": obj.description}

    def unload(self, key: str) -> None:
        """Drop the objective for ``key``."""
        self._objectives.pop(key, None)

    def score(self, key: str, values: np.ndarray, first_lane: int) -> dict[str, Any]:
        """Score candidates (S, P) numbered from ``first_lane``, in calls of at most the compiled lanes."""
        obj = self._objectives[key]
        values = np.asarray(values)
        parts = []
        t0 = time.perf_counter()
        for start in range(0, len(values), obj.batch):
            parts.append((start, obj(values[start:start + obj.batch], first_lane=first_lane + start)))
        losses = np.concatenate([r.losses for _, r in parts])
        best = int(np.argmin(losses))
        start, res = next((s, r) for s, r in parts if s <= best < s + len(r.losses))
        out: dict[str, Any] = {"losses": losses, "flags": tuple(f for _, r in parts for f in r.flags),
                               "best_index": best, "best_fc": res.best_fc, "calls": len(parts),
                               "wall_s": time.perf_counter() - t0, "compile_s": sum(r.compile_s for _, r in parts),
                               "best_signals": getattr(res, "best_signals", None)}  # (R, S, N): a held-out KS
        if all(getattr(r, "terms", None) for _, r in parts):
            names = list(parts[0][1].terms)
            out["terms"] = {t: np.concatenate([np.asarray(r.terms[t]) for _, r in parts]) for t in names}
        if all(getattr(r, "corr", None) is not None for _, r in parts):
            out["corr"] = np.concatenate([np.asarray(r.corr) for _, r in parts])
        used, limit = _memory(obj.devices)
        out["memory_in_use"], out["memory_total"] = used, limit
        return out


def _jax_flags() -> dict[str, Any]:
    """The driver's x64 and promotion settings, so that actors compute exactly as a local run would."""
    if "jax" not in sys.modules:
        return {}
    import jax

    # jax's config declares these flags at run time (its stubs do not know them)
    return {"jax_enable_x64": bool(jax.config.jax_enable_x64),  # type: ignore[attr-defined]
            "jax_numpy_dtype_promotion": str(jax.config.jax_numpy_dtype_promotion)}  # type: ignore[attr-defined]


def start_actors(ray: Any, slots: Sequence[Slot]) -> list[Any]:
    """Start one Scorer actor per slot, pinned to its node (returns handles at once; they start in the background)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(Scorer)
    flags = _jax_flags()
    cache = not os.environ.get("WCFIT_NO_CACHE")
    handles = []
    for s in slots:
        opts: dict[str, Any] = {"num_cpus": s.cpus, "num_gpus": s.gpus, "max_restarts": 0, "max_task_retries": 0}
        if s.node_id:
            opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=s.node_id, soft=False)
        handles.append(remote.options(**opts).remote(s.kind, s.cpus, flags, cache))
    return handles


def kill_actors(ray: Any, handles: Sequence[Any]) -> None:
    """Kill every actor in ``handles``; one that is already gone (or unreachable) is skipped."""
    for h in handles:
        try:
            ray.kill(h)
        except Exception:  # noqa: BLE001 - a dead actor or a lost connection: nothing left to free
            pass


def actor_lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    ex = ray.exceptions
    return (ex.RayActorError, ex.ObjectLostError, ex.NodeDiedError, ex.WorkerCrashedError,
            ex.LocalRayletDiedError)


# ---------------------------------------------------------------------------
# the driver's view


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
        losses = np.full(n, np.nan)
        flags: list[str] = [""] * n
        filled = np.zeros(n, bool)
        terms: dict[str, np.ndarray] = {}
        corr = np.full(n, np.nan)
        with_terms = np.zeros(n, bool)
        with_corr = np.zeros(n, bool)
        best: tuple[float, int, np.ndarray] | None = None
        best_signals: np.ndarray | None = None
        share = {a.index: 0 for a in self._actors}
        actor_wall = {a.index: 0.0 for a in self._actors}
        pending: dict[Any, tuple[_Actor, int, int]] = {}

        def submit(start: int, stop: int) -> None:
            alive = self._alive()
            if not alive:
                raise ClusterError(f"every actor of the Ray cluster at {self.address} has died; "
                                   "the run can be resumed when the cluster is back")
            counts = plan_shares(stop - start, [a.lanes for a in alive],
                                 [a.seconds_per_call or 1.0 for a in alive])
            at = start
            for a, c in zip(alive, counts):
                if c:
                    ref = a.handle.score.remote(self.key, values[at:at + c], first_lane + at)
                    pending[ref] = (a, at, at + c)
                    at += c

        submit(0, n)
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
                submit(start, stop)
                continue
            except ray.exceptions.RayTaskError as e:
                cause = getattr(e, "cause", None) or e
                raise ClusterError(f"actor {a.index} on {a.slot.host} failed: {type(cause).__name__}: "
                                   f"{one_line(cause)}") from None
            assert not filled[start:stop].any(), "a candidate was scored twice"
            filled[start:stop] = True
            losses[start:stop] = out["losses"]
            flags[start:stop] = list(out["flags"])
            for t, v in (out.get("terms") or {}).items():
                terms.setdefault(t, np.full(n, np.nan))[start:stop] = v
            with_terms[start:stop] = bool(out.get("terms"))
            if out.get("corr") is not None:
                corr[start:stop] = out["corr"]
                with_corr[start:stop] = True
            b = int(out["best_index"])
            cand = (float(out["losses"][b]), start + b, np.asarray(out["best_fc"], np.float64))
            if best is None or cand[:2] < best[:2]:
                best = cand
                best_signals = out.get("best_signals")
            share[a.index] += stop - start
            actor_wall[a.index] += float(out["wall_s"])
            with self._lock:
                per_call = float(out["wall_s"]) / max(1, int(out["calls"]))
                a.seconds_per_call = per_call if a.seconds_per_call is None else \
                    SPEED_WEIGHT * per_call + (1 - SPEED_WEIGHT) * a.seconds_per_call
                speed = (stop - start) / max(float(out["wall_s"]), 1e-9)
                a.candidates_per_s = speed if a.candidates_per_s is None else \
                    SPEED_WEIGHT * speed + (1 - SPEED_WEIGHT) * a.candidates_per_s
                if out.get("memory_total") is not None:
                    a.info["memory_in_use"], a.info["memory_total"] = out["memory_in_use"], out["memory_total"]
        assert filled.all() and best is not None
        wall = time.perf_counter() - t1
        overhead = max(0.0, wall - max(actor_wall.values()))
        with self._lock:
            for a in self._actors:
                a.share = share.get(a.index, 0)
                if a.share:
                    a.batches += 1
            self.last_overhead_s = overhead
        if not with_terms.all():
            terms = {}  # an actor without terms: none rather than half (a NaN term is a flagged candidate's)
        return ClusterBatchResult(losses=losses, flags=tuple(flags), best_index=best[1], best_fc=best[2],
                                  wall_s=time.perf_counter() - t0 - compile_s, compile_s=compile_s, terms=terms,
                                  corr=corr if with_corr.all() else None, overhead_s=overhead,
                                  best_signals=best_signals)

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


# ---------------------------------------------------------------------------
# info --cluster


def cluster_info_lines(address: str, cpu_actors: int | None = None) -> list[str]:
    """Nodes of the cluster and the actors a fit would start there, each with host, device and memory."""
    ray = connect(address)
    nodes = [n for n in ray.nodes() if n.get("Alive", True)]
    res = ray.cluster_resources()
    lines = [f"Ray {ray.__version__} cluster at {address}: {len(nodes)} node(s), {int(res.get('CPU', 0))} CPU, "
             f"{int(res.get('GPU', 0))} GPU"]
    slots = plan_slots(nodes, cpu_actors)
    handles = start_actors(ray, slots)
    try:
        for i, (s, h) in enumerate(zip(slots, handles)):
            try:
                d = ray.get(h.describe.remote(), timeout=120)
            except Exception as e:  # noqa: BLE001 - an actor that cannot start is listed as such
                lines.append(f"  actor {i}: {s.host} ({s.ip}), {s.kind}: could not start ({one_line(e)[:80]})")
                continue
            mem = f"{human_bytes(d['memory_in_use'])} in use of {human_bytes(d['memory_total'])}" \
                if d.get("memory_total") else "memory not reported"
            what = "RSS" if d["platform"] == "cpu" else "device"
            lines.append(f"  actor {i}: {d['host']} ({s.ip}), {d['device']} ({d['platform']}, {s.cpus} CPU"
                         f"{', 1 GPU' if s.gpus else ''}), {what} memory {mem}")
    finally:
        kill_actors(ray, handles)
    return lines


__all__ = ["ActorRow", "ClusterBatchResult", "ClusterError", "ClusterObjective", "INSTALL_HINT", "Scorer", "Slot",
           "cluster_info_lines", "connect", "import_ray", "plan_shares", "plan_slots", "start_actors"]
