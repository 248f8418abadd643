"""``wcfit-tui bench``: the engine against the seed's own code path, side by side in one process.

For each batch size both the reference (the seed's jitted ``vmap2`` objective, ``engine.model.reference``) and
the engine (``engine.model.objective.Objective``) score the same k values (spread over [0.5, 3], σ 0.05) for
the same simulated duration, on the current default device(s). Timings are the best of ≥ 2 calls after
compilation. The engine's memory per candidate is XLA's compiled memory analysis (arguments + outputs +
temporaries) of its batch call, on every backend; the reference (brainstate's jit cannot be compiled ahead of
time) reports the device's peak bytes in use where the backend has them (GPU). That peak only ever grows in a
process, so batch sizes are measured smallest first: each reference row's peak is then its own.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from engine.config import FitConfig
from engine.data.dataset import load_dataset
from engine.model import reference
from engine.model.objective import Objective

#: Default batch sizes measured.
DEFAULT_BATCHES = (1, 4, 16)


def _time_calls(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall time of ``repeats`` calls (each waits for its result)."""
    best = float("inf")
    for _ in range(max(2, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_bytes(device: Any) -> int | None:
    """Peak device bytes in use, or None where the backend does not report it (CPU)."""
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory stats
        return None
    peak = stats.get("peak_bytes_in_use")
    return int(peak) if peak else None


def analysis_bytes(compiled: Any) -> int | None:
    """Arguments + outputs + temporaries of a compiled executable, less donated buffers (XLA's memory analysis)."""
    try:
        m = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    if m is None:
        return None
    # a donated argument that the output reuses (the segment's carried state) is one buffer, not two
    alias = int(getattr(m, "alias_size_in_bytes", 0) or 0)
    return int(m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes) - alias


def _row(batch: int, compile_s: float, wall_s: float, duration_ms: float, mem: int | None, mem_how: str) -> dict[str, Any]:
    return {"batch": batch, "compile_s": compile_s, "wall_s": wall_s, "candidates_per_s": batch / wall_s,
            "s_per_candidate": wall_s / batch, "sim_s_per_wall_s": batch * duration_ms / 1000.0 / wall_s,
            "mem_per_candidate_bytes": None if mem is None else mem / batch, "mem_source": mem_how}


def bench_reference(data: Any, batch: int, duration_ms: float, repeats: int = 2) -> dict[str, Any]:
    """Time the seed's jitted vmap2 objective on ``batch`` values of k."""
    device = jax.local_devices()[0]
    fn = reference.make_batch_loss(data.cmat, data.dmat, data.target_fc, duration_ms=duration_ms)
    ks = jnp.linspace(0.5, 3.0, batch, dtype=jnp.float32)
    t0 = time.perf_counter()
    jax.block_until_ready(fn(ks))  # first call compiles (brainstate's jit cannot be lowered ahead of time)
    first = time.perf_counter() - t0
    wall = _time_calls(lambda: fn(ks), repeats)
    peak = _peak_bytes(device)
    mem_how = "device peak" if peak is not None else "n/a on this backend"
    return _row(batch, max(0.0, first - wall), wall, duration_ms, peak, mem_how)


def bench_engine(data: Any, batch: int, duration_ms: float, repeats: int = 2, *, common_noise: bool = False,
                 stream: str = "block", unroll: int | None = None, realizations: int = 1) -> dict[str, Any]:
    """Time ``engine.model.objective.Objective`` on ``batch`` values of k (one fixed-shape compiled call).

    With ``realizations`` R > 1 each candidate is simulated R times (R× the lanes) and scored on the mean FC."""
    config = FitConfig(batch=batch, duration_ms=duration_ms, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05},
                       common_noise=common_noise, realizations=realizations)
    obj = Objective(data, config, stream=stream, unroll=unroll)  # type: ignore[arg-type]
    values = np.linspace(0.5, 3.0, batch, dtype=np.float32).reshape(-1, 1)
    compile_s = obj.compile()
    obj(values)  # warm-up (first execution)
    wall = _time_calls(lambda: obj(values).losses, repeats)
    # the executable's own needs: a device's peak would include earlier rows and the reference in this process
    per_device = analysis_bytes(obj._compiled)  # noqa: SLF001 - same package; SPMD: one device's share
    mem = None if per_device is None else per_device * len(obj.devices)
    row = _row(batch, compile_s, wall, duration_ms, mem, "XLA memory analysis")
    row["layout"] = obj.description
    row["devices"] = len(obj.devices)
    row["device_peak_bytes"] = _peak_bytes(obj.devices[0])  # the process's high-water mark so far (GPU), or None
    return row


def run_bench(batches: tuple[int, ...] = DEFAULT_BATCHES, duration_ms: float = 6000.0, data: str | None = None, *,
              reference: bool = True, repeats: int = 2, common_noise: bool = False, unroll: int | None = None,
              progress: Callable[[str], None] | None = None, realizations: int = 1) -> dict[str, Any]:
    """Measure reference and engine for each batch size; return a JSON-ready dict."""
    ds = load_dataset(data)
    dev = jax.local_devices()
    out: dict[str, Any] = {
        "device": f"{len(dev)}× {dev[0].platform} ({dev[0].device_kind})", "data": ds.name, "n_nodes": ds.n_nodes,
        "realizations": realizations,
        "duration_ms": duration_ms, "n_steps": int(duration_ms // 0.1), "noise": "common" if common_noise else "per-candidate",
        "rows": []}
    for b in sorted(set(batches)):  # smallest first: a device's peak memory never falls within a process
        row: dict[str, Any] = {"batch": b}
        if progress:
            progress(f"batch {b}: engine…")
        row["engine"] = bench_engine(ds, b, duration_ms, repeats, common_noise=common_noise, unroll=unroll)
        if realizations > 1:  # the same batch scored over R noise realisations, beside one realisation
            if progress:
                progress(f"batch {b}: engine, {realizations} realisations…")
            row["engine_realizations"] = bench_engine(ds, b, duration_ms, repeats, common_noise=common_noise,
                                                      unroll=unroll, realizations=realizations)
            row["realization_cost"] = row["engine_realizations"]["wall_s"] / row["engine"]["wall_s"]
        if reference:
            if progress:
                progress(f"batch {b}: reference…")
            row["reference"] = bench_reference(ds, b, duration_ms, repeats)
            row["speedup"] = row["reference"]["wall_s"] / row["engine"]["wall_s"]
        out["rows"].append(row)
    return out
