"""``wcfit-tui bench --observe bold``: what BOLD and FCD cost per simulated second, side by side with raw rE.

Same data, batch, duration, transient, initial state and noise for every row; only the observation and the
objective change. Memory is XLA's own accounting of the compiled functions (the segment that simulates, and the
function that scores), per candidate, at the bench's duration and compiled (not run) at 60 s and 600 s: it should
differ only by the stored BOLD samples (S × N per candidate), never with the number of steps.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import jax
import numpy as np

from engine import presets
from engine.bench.speed import analysis_bytes
from engine.data.dataset import load_dataset
from engine.model.objective import Objective

#: The rows of the comparison: (label, observation, objective).
ROWS = (("rE", "rE", "fc"), ("bold", "bold", "fc"), ("bold+fcd", "bold", "fc+fcd_ks"))


def _memory(obj: Any) -> int | None:
    """Arguments + outputs + temporaries of the compiled segment and finish functions, summed over devices."""
    fns = obj._fns  # noqa: SLF001 - same package
    total = 0
    for name in ("segment", "finish"):
        b = analysis_bytes(fns[name])
        if b is None:
            return None
        total += b
    return total * len(obj.devices)


def _config(observe: str, objective: str, batch: int, duration_ms: float) -> Any:
    return presets.get("bold").config(observe=observe, objective=objective, batch=batch, budget=batch,
                                      duration_ms=duration_ms, data="bundled")


def bench_observation(ds: Any, batch: int, duration_ms: float, repeats: int = 1) -> list[dict[str, Any]]:
    """Time one batch per row of ``ROWS``; return a dict per row.

    Every row is compiled first; then the timed calls go round the rows in turn (rE, bold, bold+fcd, rE, …) and
    each row keeps its best, so a change in the machine's load during the run affects every row alike.
    """
    values = np.column_stack([np.linspace(16.0, 56.0, batch), np.full(batch, 0.15)]).astype(np.float32)
    objs, compile_s = [], []
    for _, observe, objective in ROWS:
        obj = Objective(ds, _config(observe, objective, batch, duration_ms))
        compile_s.append(obj.compile())
        objs.append(obj)
    walls: list[list[float]] = [[] for _ in ROWS]
    for _ in range(max(1, repeats)):
        for i, obj in enumerate(objs):
            t0 = time.perf_counter()
            obj(values)
            walls[i].append(time.perf_counter() - t0)
    rows = []
    for (label, observe, objective), obj, c_s, w_s in zip(ROWS, objs, compile_s, walls):
        wall = min(w_s)
        mem = _memory(obj)
        sizes = {}
        for d in (60_000.0, 600_000.0):  # compiled, not run: memory must not grow with the steps
            other = Objective(ds, _config(observe, objective, batch, d))
            other.compile()
            m = _memory(other)
            sizes[f"mem_per_candidate_{int(d / 1000)}s"] = None if m is None else m / batch
        samples = 0 if obj.sampling is None else obj.sampling.n_samples
        rows.append({"label": label, "observe": observe, "objective": objective, "batch": batch,
                     "compile_s": c_s, "wall_s": wall, "walls_s": w_s,
                     "s_per_sim_s_per_candidate": wall / batch / (duration_ms / 1000.0),
                     "mem_per_candidate": None if mem is None else mem / batch, **sizes,
                     "samples": samples, "samples_bytes_per_candidate": samples * ds.n_nodes * 4,
                     "layout": obj.description, "segments": obj.n_segments})
    base = rows[0]["s_per_sim_s_per_candidate"]
    for r in rows:
        r["vs_rE"] = r["s_per_sim_s_per_candidate"] / base - 1.0
    return rows


def run(batches: tuple[int, ...], duration_ms: float, data: str | None, repeats: int,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every batch size's rows as a JSON-ready dict."""
    ds = load_dataset(data)
    dev = jax.local_devices()
    out: dict[str, Any] = {"device": f"{len(dev)}× {dev[0].platform} ({dev[0].device_kind})", "data": ds.name,
                           "n_nodes": ds.n_nodes, "duration_ms": duration_ms, "rows": []}
    for b in sorted(set(batches)):
        if progress:
            progress(f"batch {b}: rE, bold, bold+fcd…")
        out["rows"].extend(bench_observation(ds, b, duration_ms, repeats))
    return out
