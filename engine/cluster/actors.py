"""The actors of a Ray cluster: what runs inside one (``Scorer``, a plain class that ``ray.remote`` wraps lazily),
starting them pinned to their nodes, killing them, and the errors that say one was lost."""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Any, Mapping, Sequence

import numpy as np

from engine.cluster.plan import Slot
from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.devices import device_memory


def _memory(devices: Sequence[Any]) -> tuple[int | None, int | None]:
    """Bytes in use and limit summed over devices; host RAM for CPU devices (in use: this process's RSS)."""
    used, limit = device_memory(devices)
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
