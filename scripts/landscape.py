"""Landscape scans behind the default preset: BOLD FC and FCD over a grid of parameters, scored against the group
target, each subject alone and a synthetic target made by the model; prints JSON (README, "Choosing the default").

    python scripts/landscape.py --duration 400 --out landscape.json

One simulation per grid point (the BOLD samples are kept), scored afterwards in float64 against every target and
for every prefix duration, so the subjects and durations cost nothing extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np


def _samples(ds: Any, cfg: Any, values: np.ndarray) -> tuple[np.ndarray, Any]:
    """BOLD samples (S, N, B) of a batch of candidates (the objective's own init and segment functions)."""
    import jax
    import jax.numpy as jnp

    from engine import model
    from engine.objective import Objective

    obj = Objective(ds, cfg.replace(batch=len(values), budget=len(values)), devices=jax.local_devices()[:1],
                    chunk=len(values))
    vals = jnp.asarray(values, jnp.float32)
    state = jax.jit(obj._init_chunk)(vals, jnp.arange(len(values), dtype=jnp.int32))  # noqa: SLF001
    seg = jax.jit(lambda st, v, b: model.run_blocks(obj.sim, obj._params(v), st, b, obj.segment_blocks)[0],  # noqa: SLF001
                  donate_argnums=0)
    for i in range(obj.n_segments):
        state = seg(state, vals, jnp.asarray(i * obj.segment_blocks, jnp.int32))
        print(f"  segment {i + 1}/{obj.n_segments}", file=sys.stderr, flush=True)
    return np.asarray(state.samples, np.float64), obj


def _r(fc: np.ndarray, target: np.ndarray) -> float:
    iu = np.triu_indices(fc.shape[0], 1)
    return float(np.corrcoef(fc[iu], target[iu])[0, 1])


def main() -> None:
    """Run the scans and print the JSON."""
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=400.0, help="simulated seconds per candidate")
    p.add_argument("--k", default="8,16,24,32,40,48,56,64")
    p.add_argument("--ext-e", default="0,0.05,0.1,0.15,0.2,0.25")
    p.add_argument("--extra", action="store_true", help="also scan sigma, signal speed and local weights at the best point")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    from engine import fcd, presets
    from engine.data import functional_connectivity, load_dataset

    ds = load_dataset()
    base = presets.get("bold").config(duration_ms=a.duration * 1000.0)
    ks = [float(x) for x in a.k.split(",")]
    es = [float(x) for x in a.ext_e.split(",")]
    grid = np.array([[k, e] for k in ks for e in es], np.float32)
    t0 = time.perf_counter()
    y, obj = _samples(ds, base, grid)
    wall = time.perf_counter() - t0
    tr = obj.sampling.tr_s
    subjects = [functional_connectivity(s.T) for s in ds.scans]
    window, step = obj.target.fcd_window, obj.target.fcd_step
    emp_fcd = fcd.empirical_fcd_values(ds.scans, window, step)
    prefixes = [d for d in (60, 120, 200, 400, 800) if d <= a.duration]
    first = base.transient_ms / 1000.0
    rows = []
    for b, (k, e) in enumerate(grid):
        row: dict[str, Any] = {"k": float(k), "ext_E": float(e)}
        for d in prefixes:
            n = int((d - first) / tr)
            fc = functional_connectivity(y[:n, :, b])
            row[f"r_group_{d}s"] = _r(fc, ds.target_fc)
        fc = functional_connectivity(y[:, :, b])
        row["r_subjects"] = [_r(fc, s) for s in subjects]
        row["bold_std"] = float(y[:, :, b].std())
        try:
            vals = fcd._fcd_values_np(y[:, :, b], window, step)  # noqa: SLF001
            from scipy.stats import ks_2samp

            row["fcd_ks"] = float(ks_2samp(vals, emp_fcd).statistic)
        except ValueError:
            row["fcd_ks"] = None
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k != "r_subjects"}),
              file=sys.stderr, flush=True)
    out: dict[str, Any] = {
        "duration_s": a.duration, "transient_s": first, "tr_s": tr, "fcd_window": window, "fcd_step": step,
        "wall_s": wall, "candidates": len(grid),
        "baseline_group": float(obj.target.structural_baseline),
        "baseline_subjects": [_r(ds.cmat, s) for s in subjects],
        "rows": rows,
    }
    # a synthetic target: the model itself at a known point, another noise seed; the grid above is scored against it
    known = np.array([[32.0, 0.15]], np.float32)
    ys, _ = _samples(ds, base.replace(seed=1), known)
    syn = functional_connectivity(ys[:, :, 0])
    for b, row in enumerate(rows):
        row["r_synthetic"] = _r(functional_connectivity(y[:, :, b]), syn)
    out["synthetic_at"] = {"k": 32.0, "ext_E": 0.15}
    out["baseline_synthetic"] = _r(ds.cmat, syn)
    text = json.dumps(out, indent=1)
    if a.out:
        open(a.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
