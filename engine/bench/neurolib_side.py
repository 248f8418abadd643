"""neurolib's numba Wilson–Cowan with BOLD, timed on the same structure beside the engine (``bench --presets``).

One spawned process per core (numba runs one simulation per process): each compiles with a short run, all wait at
a barrier, then each simulates the same duration with BOLD; the figure is processes × simulated seconds ÷ the wall
time from the first start to the last end. neurolib's own Wilson–Cowan defaults, σ_ou 0.05, signal speed 2 mm/ms
and dt 0.1 ms, as the ``bold`` preset's network. Nothing here imports JAX (the workers are fresh interpreters).
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import time
from typing import Any, Callable

import numpy as np

#: The short run that makes numba compile before timing (ms).
WARMUP_MS = 2000.0

_BARRIER: Any = None


def available() -> bool:
    """Whether neurolib (the ``neurolib`` extra) can be imported."""
    return importlib.util.find_spec("neurolib") is not None


def _init(barrier: Any) -> None:
    global _BARRIER  # noqa: PLW0603 - the worker process's own copy of the barrier
    _BARRIER = barrier


def _simulate(args: tuple[np.ndarray, np.ndarray, float, float, float]) -> tuple[float, float]:
    """In a worker: compile, wait for the others, then one timed run; (start, end) in wall-clock seconds."""
    cmat, dmat, duration_ms, speed, sigma = args
    from neurolib.models.wc import WCModel

    model = WCModel(Cmat=cmat, Dmat=dmat)
    model.params["signalV"] = speed
    model.params["sigma_ou"] = sigma
    model.params["duration"] = WARMUP_MS
    model.run(bold=True)
    model.params["duration"] = duration_ms
    if _BARRIER is not None:
        _BARRIER.wait()
    start = time.time()
    model.run(bold=True)
    return start, time.time()


def run(data: str, *, duration_ms: float, processes: int, speed: float = 2.0, sigma: float = 0.05,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """neurolib's throughput on ``data``'s structure ({"installed": False} where it is not installed)."""
    if not available():
        return {"installed": False}
    from engine.data.dataset import load_dataset

    ds = load_dataset(data)
    n = max(1, processes)
    ctx = mp.get_context("spawn")  # never fork a process that runs JAX's threads
    barrier = ctx.Barrier(n)
    if progress:
        progress(f"neurolib on {ds.name}: {n} process(es), compiling then timing")
    args = (np.asarray(ds.cmat, np.float64), np.asarray(ds.dmat, np.float64), float(duration_ms), speed, sigma)
    with ctx.Pool(n, initializer=_init, initargs=(barrier,)) as pool:
        spans = pool.map(_simulate, [args] * n)
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    rate = n * duration_ms / 1000.0 / wall
    return {"installed": True, "data": ds.name, "n_nodes": ds.n_nodes, "processes": n, "duration_ms": duration_ms,
            "wall_s": wall, "cand_sim_s_per_s": rate}
