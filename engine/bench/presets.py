"""``wcfit-tui bench --presets``: the presets' throughput side by side, against the machine's peak and neurolib.

Each row is a preset as a fit runs it (``engine.prepare.prepare_fit``: its data, batch, observation, terms and
devices), timed as the marginal cost of a fit: one batch call after compilation and a warm-up (best of the timed
calls), so start-up and compiling cancel as they do between a 48- and a 16-candidate fit. The figure is
candidate-simulated-seconds per wall second: candidates × simulated seconds each ÷ wall seconds of the call.

The peak is a stated estimate, not a measurement: the floating-point work of one candidate-step (``work_per_step``)
against cores × clock × 32 float32 operations per cycle (two 256-bit FMA units, the vectors XLA emits on x86).
Where neurolib is installed (``pip install 'wcfit-tui[neurolib]'``) its numba Wilson–Cowan with BOLD runs on the same
structure and duration in one process per core, in the same run (``engine.bench.neurolib_side``).
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

from engine import presets

#: (preset, dataset) pairs measured by default: the default fit and the regional one, each on its own data.
DEFAULT_PRESETS: tuple[tuple[str, str], ...] = (("bold", "bundled"), ("regional", "schaefer100"))
#: Float32 operations per cycle and core the peak assumes (AVX2: 2 FMA units × 8 lanes × 2 operations).
FLOPS_PER_CYCLE = 32
#: Clock assumed when the processor does not report one (GHz).
DEFAULT_GHZ = 2.5
#: Floating-point operations of one node's update per step, counted from the compiled kernel: per population two
#: exponentials (≈ 20 each as XLA evaluates them), two divisions and ≈ 24 multiply-adds, plus the OU noise and the
#: coupling's own terms.
NODE_FLOPS = 140


def work_per_step(n_nodes: int) -> float:
    """Floating-point operations of one candidate-step: N² coupling multiply-adds and N node updates."""
    return 2.0 * n_nodes * n_nodes + NODE_FLOPS * n_nodes


def cpu_ghz() -> tuple[float, bool]:
    """The processor's clock in GHz from /proc/cpuinfo, and whether it was read (else ``DEFAULT_GHZ``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("cpu mhz"):
                    return float(line.split(":")[1]) / 1000.0, True
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_GHZ, False


def peak_flops(cores: int | None = None) -> dict[str, Any]:
    """The estimated float32 peak of this machine's CPU cores (JSON-ready, with how it was estimated)."""
    n = cores or os.cpu_count() or 1
    ghz, read = cpu_ghz()
    return {"cores": n, "ghz": ghz, "ghz_source": "/proc/cpuinfo" if read else "assumed",
            "flops_per_cycle": FLOPS_PER_CYCLE, "gflops": n * ghz * FLOPS_PER_CYCLE}


def time_preset(preset: str, data: str, *, batch: int = 16, duration_ms: float = 60_000.0, repeats: int = 2,
                dt_ms: float | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """One preset's throughput as a fit runs it (one timed batch call after compile and warm-up; ``dt_ms``: a
    coarser integration step than the preset's, an approximation the user chooses)."""
    import jax

    from engine.prepare import prepare_fit
    from engine.settings import config_from_settings

    config = config_from_settings({"preset": preset, "data": data, "batch": batch, "budget": batch,
                                   "duration_ms": duration_ms, "dt_ms": dt_ms})
    prepared = prepare_fit(config)
    obj = prepared.objective
    cfg = prepared.config
    start = presets.point_within(preset, obj.names, cfg.bounds)
    values = np.tile(np.asarray([start[n] for n in obj.names], np.float32), (batch, 1))
    if progress:
        progress(f"{preset} on {data}: compiling")
    compile_s = obj.compile()
    obj(values)  # the first execution
    wall = float("inf")
    for _ in range(max(1, repeats)):
        if progress:
            progress(f"{preset} on {data}: timing")
        t0 = time.perf_counter()
        jax.block_until_ready(obj(values).losses)
        wall = min(wall, time.perf_counter() - t0)
    sim_s = cfg.n_steps * cfg.dt_ms / 1000.0
    rate = batch * sim_s / wall
    n = prepared.dataset.n_nodes
    gflops = rate * (1000.0 / cfg.dt_ms) * work_per_step(n) / 1e9  # a coarser dt does less work per simulated s
    return {"preset": preset, "data": prepared.dataset.name, "n_nodes": n, "batch": batch, "duration_ms": duration_ms,
            "layout": obj.description, "compile_s": compile_s, "wall_s": wall, "cand_sim_s_per_s": rate,
            "gflops": gflops, "dt_ms": cfg.dt_ms, "objective": cfg.objective, "coupling": cfg.coupling, "fic": bool(cfg.fic)}


def run(pairs: tuple[tuple[str, str], ...] = DEFAULT_PRESETS, *, batch: int = 16, duration_ms: float = 60_000.0,
        repeats: int = 2, neurolib: bool = True, dt_ms: float | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every preset's row, the estimated peak and (where installed) neurolib's row: a JSON-ready dict."""
    import jax

    from engine.bench import neurolib_side

    dev = jax.local_devices()
    peak = peak_flops()
    rows = [time_preset(p, d, batch=batch, duration_ms=duration_ms, repeats=repeats, dt_ms=dt_ms, progress=progress)
            for p, d in pairs]
    if dev[0].platform == "cpu":
        for r in rows:
            r["peak_fraction"] = r["gflops"] / peak["gflops"]
            r["peak_rate"] = r["cand_sim_s_per_s"] / r["peak_fraction"]
    out: dict[str, Any] = {"device": f"{len(dev)}× {dev[0].platform} ({dev[0].device_kind})", "peak": peak,
                           "node_flops": NODE_FLOPS, "rows": rows, "neurolib": None}
    if neurolib:
        data = pairs[0][1] if pairs else "bundled"
        out["neurolib"] = neurolib_side.run(data, duration_ms=duration_ms, processes=peak["cores"], progress=progress)
    return out
