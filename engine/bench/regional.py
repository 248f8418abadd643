"""``wcfit-tui bench --regional``: the cost of regional parameters and FIC, timed side by side with homogeneous runs.

Each row is the product's batch objective on the same data, batch and BOLD settings (the ``bold`` preset), differing
only in the model: homogeneous, or with two map coefficients on the drive (``ext_E@strength``, ``ext_E@fcgradient``)
and FIC, for each coupling. Per-region values are (N, B) arrays computed on the host once per batch and passed in;
the only extra work per simulated second is reading (N, B) inputs instead of (B,) ones. A steady start of a regional network relaxes the
coupled network once (``engine.model.node.RELAX_STEPS``), a fixed cost per batch reported as ``init_s``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from engine import presets
from engine.data.dataset import load_dataset
from engine.model.objective import Objective

#: (label, FitConfig fields, coefficients) of the compared models. Every lane runs k 2, ext_E 0.5 (the neurolib set):
#: the "coefficients 0" rows run the homogeneous model's dynamics through the regional machinery — (N, B) values,
#: FIC's solve — so they measure what that machinery costs; the others add the different dynamics of regions that
#: differ (the cost of a simulated second depends a little on the state: ≈ ±10 % between drives here).
VARIANTS: tuple[tuple[str, dict[str, Any], tuple[float, ...]], ...] = (
    ("diffusive, homogeneous", dict(coupling="diffusive"), ()),
    ("diffusive, 2 maps (c 0)", dict(coupling="diffusive", maps_on=True), (0.0, 0.0)),
    ("diffusive, 2 maps (c ±0.3) + FIC", dict(coupling="diffusive", fic=True, maps_on=True), (0.3, -0.3)),
    ("additive, homogeneous", dict(coupling="additive"), ()),
    ("additive, 2 maps (c 0) + FIC", dict(coupling="additive", fic=True, maps_on=True), (0.0, 0.0)),
    ("additive, 2 maps (c ±0.3) + FIC", dict(coupling="additive", fic=True, maps_on=True), (0.3, -0.3)),
)


def _config(batch: int, duration_ms: float, data: str, fields: dict[str, Any]) -> Any:

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


    ds = load_dataset(data)
    prepared = []
    for label, fields, coefs in VARIANTS:
        cfg = _config(batch, duration_ms, data or "bundled", fields)
        obj = Objective(ds, cfg, devices=jax.local_devices()[:1])
        point = {"k": 2.0, "ext_E": 0.5, "ext_E@strength": coefs[0] if coefs else 0.0,
                 "ext_E@fcgradient": coefs[1] if coefs else 0.0}
        values = np.tile(np.array([point[n] for n in obj.names], np.float32), (batch, 1))
        if progress:
            progress(f"{label}: compiling")
        compile_s = obj.compile()
        init = jax.jit(obj._device_init)  # noqa: SLF001 - the steady start alone
        shape = (obj.chunks, obj.chunk)
        v = obj.chunk_inputs(np.resize(values, (obj.batch, len(obj.names))))
        lanes = jnp.zeros(shape, jnp.int32)
        reals = jnp.zeros(shape[:1], jnp.int32)  # one realisation: every chunk is realisation 0
        jax.block_until_ready(init(v, lanes, reals))
        obj(values)  # warm
        prepared.append((label, cfg, obj, values, compile_s, init, v, lanes, reals))
    best = {p[0]: float("inf") for p in prepared}
    best_init = {p[0]: float("inf") for p in prepared}
    for _ in range(max(1, repeats)):  # rounds over the variants: a change of machine load hits them all alike
        for label, cfg, obj, values, _c, init, v, lanes, reals in prepared:
            t0 = time.perf_counter()
            jax.block_until_ready(init(v, lanes, reals))
            best_init[label] = min(best_init[label], time.perf_counter() - t0)
            best[label] = min(best[label], obj(values).wall_s)
    rows = []
    for label, cfg, obj, values, compile_s, *_ in prepared:
        sim_s = cfg.simulated_seconds
        wall, init_s = best[label], best_init[label]
        rows.append({"model": label, "batch": batch, "compile_s": compile_s, "wall_s": wall, "init_s": init_s,
                     "s_per_sim_s_per_candidate": wall / (sim_s * batch),
                     "s_per_sim_s_per_candidate_after_init": (wall - init_s) / (sim_s * batch)})
        if progress:
            progress(f"{label}: {wall:.2f} s")
    for r in rows:
        base = rows[0] if r["model"].startswith("diffusive") else rows[3]
        r["relative"] = r["s_per_sim_s_per_candidate"] / base["s_per_sim_s_per_candidate"]
        r["relative_after_init"] = r["s_per_sim_s_per_candidate_after_init"] / base["s_per_sim_s_per_candidate_after_init"]
    return {"dataset": ds.name, "n_nodes": ds.n_nodes, "duration_ms": duration_ms, "rows": rows}

