"""``wcfit-tui bench --cluster ADDRESS``: one process against the cluster's actors, side by side, same batches.

For each batch size the same k values are scored by one local ``Objective`` (this process, every local device) and
by a ``ClusterObjective`` (one actor per device; on CPU-only hosts ``--cpu-actors`` actors, 2 by default). Times
are the best of ``repeats`` calls after compilation and one warm-up call (``repeats`` 1: one timed call, no warm-up,
for long candidates where one call is minutes and first-call effects are negligible). The scheduling overhead of a batch is
the driver's wall time beyond the slowest actor's own compute time (the round trip: task submission, argument and
result transfer, waiting); it is given in ms and as a share of the batch's wall time.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from engine.cluster.objective import ClusterObjective
from engine.config import FitConfig
from engine.data.dataset import load_dataset
from engine.model.objective import Objective


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_cluster_bench(address: str, batches: tuple[int, ...] = (64,), duration_ms: float = 6000.0,
                      data: str | None = None, *, repeats: int = 2, cpu_actors: int = 2,
                      progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure one process and the cluster on each batch size; return a JSON-ready dict."""
    say = progress or (lambda m: None)
    ds = load_dataset(data)
    out: dict[str, Any] = {"address": address, "data": ds.name, "n_nodes": ds.n_nodes, "duration_ms": duration_ms,
                           "repeats": repeats, "rows": []}
    for b in sorted(set(batches)):
        cfg = FitConfig(batch=b, duration_ms=duration_ms, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})
        values = np.linspace(0.5, 3.0, b, dtype=np.float32).reshape(-1, 1)
        say(f"batch {b}: one process…")
        local = Objective(ds, cfg)
        local_compile = local.compile()
        warm_up = repeats >= 2
        if warm_up:
            local(values)
        local_wall, local_res = _timed(lambda: local(values), repeats)
        say(f"batch {b}: cluster…")
        cobj = ClusterObjective(ds, cfg, address=address, cpu_actors=cpu_actors)
        try:
            cluster_compile = cobj.compile()
            if warm_up:
                cobj(values)
            walls, overheads, res = [], [], None
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                res = cobj(values)
                walls.append(time.perf_counter() - t0)
                overheads.append(float(cobj.last_overhead_s or 0.0))
            best = int(np.argmin(walls))
            actors = [r for r in cobj.actor_rows() if r.state == "ready"]
            layout = cobj.description
        finally:
            cobj.close()
        out["rows"].append({
            "batch": b,
            "one_process": {"layout": local.description, "compile_s": local_compile, "wall_s": local_wall,
                            "candidates_per_s": b / local_wall},
            "cluster": {"layout": layout, "actors": len(actors), "compile_s": cluster_compile, "wall_s": walls[best],
                        "candidates_per_s": b / walls[best], "overhead_s": overheads[best],
                        "overhead_pct": 100.0 * overheads[best] / walls[best],
                        "shares": [r.share for r in actors]},
            "speedup": local_wall / walls[best],
            "max_loss_difference": float(np.max(np.abs(np.asarray(res.losses) - local_res.losses))),  # type: ignore[union-attr]
        })
    return out
