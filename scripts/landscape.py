"""Landscape scans behind the default preset: BOLD FC and FCD over a grid of parameters, scored against the group
target, each subject alone and a synthetic target made by the model; prints JSON (README, "Choosing the default").

    python scripts/landscape.py --duration 400 --out landscape.json

One simulation per grid point (the BOLD samples are kept), scored afterwards in float64 against every target and
for every prefix duration, so the subjects and durations cost nothing extra.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np


def _samples(ds: Any, cfg: Any, values: np.ndarray) -> tuple[np.ndarray, Any]:
    """BOLD samples (S, N, B) of a batch of candidates, as the objective simulates them."""
    from engine.model.objective import Objective

    obj = Objective(ds, cfg.replace(batch=len(values), budget=len(values)))
    y = obj.samples(values)  # (B, S, N)
    return np.moveaxis(y, 0, -1).astype(np.float64), obj


def _r(fc: np.ndarray, target: np.ndarray) -> float:
    iu = np.triu_indices(fc.shape[0], 1)
    return float(np.corrcoef(fc[iu], target[iu])[0, 1])


#: Extra points around the ridge: one parameter changed at a time from (k 48, ext_E 0.15).
EXTRA = [{"sigma": 0.02}, {"sigma": 0.1}, {"signal_speed": 5.0}, {"signal_speed": 10.0}, {"wEE": 11.0},
         {"wEE": 13.0}, {"tau_ou": 5.0}, {"tau_ou": 20.0}]
#: Where the synthetic targets are made (each with another noise seed).
SYNTHETIC = [{"k": 32.0, "ext_E": 0.15}, {"k": 48.0, "ext_E": 0.05}]


def main() -> None:
    """Run the scans, keep every candidate's BOLD samples (--save) and print the JSON scores."""
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=float, default=400.0, help="simulated seconds per candidate")
    p.add_argument("--k", default="8,16,24,32,40,48,56,64")
    p.add_argument("--ext-e", default="0,0.05,0.1,0.15,0.2,0.25")
    p.add_argument("--save", default=None, help="an .npz for every candidate's samples")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    from engine import presets
    from engine.data.dataset import load_dataset

    ds = load_dataset()
    base = presets.get("bold").config(duration_ms=a.duration * 1000.0)
    names = ["k", "ext_E", "sigma", "signal_speed", "wEE", "tau_ou"]
    center = {"k": 48.0, "ext_E": 0.15}
    points = [{"k": float(k), "ext_E": float(e)} for k in a.k.split(",") for e in a.ext_e.split(",")]
    points += [{**center, **x} for x in EXTRA]
    defaults = base.values()
    full = [{n: pt.get(n, defaults[n]) for n in names} for pt in points]
    cfg = base.replace(bounds={"k": (1.0, 80.0), "ext_E": (-1.0, 3.0), "sigma": (0.0, 0.2),
                               "signal_speed": (1.0, 20.0), "wEE": (5.0, 20.0), "tau_ou": (1.0, 50.0)}, fixed={})
    grid = np.array([[pt[n] for n in cfg.names] for pt in full], np.float32)
    t0 = time.perf_counter()
    y, obj = _samples(ds, cfg, grid)
    wall = time.perf_counter() - t0
    syn = []
    for i, pt in enumerate(SYNTHETIC):
        v = np.array([[{**defaults, **pt}[n] for n in cfg.names]], np.float32)
        ys, _ = _samples(ds, cfg.replace(seed=1 + i), v)
        syn.append(ys[:, :, 0])
    if a.save:
        np.savez_compressed(a.save, samples=y.astype(np.float32), synthetic=np.stack(syn).astype(np.float32),
                            names=np.array(cfg.names), values=grid, tr_s=obj.sampling.tr_s,
                            transient_s=base.transient_ms / 1000.0)
    out = score(ds, y, [dict(zip(cfg.names, map(float, g))) for g in grid], syn, obj.sampling.tr_s,
                base.transient_ms / 1000.0, obj.target.fcd_window, obj.target.fcd_step)
    out.update({"duration_s": a.duration, "wall_s": wall, "candidates": len(grid), "synthetic_at": SYNTHETIC})
    text = json.dumps(out, indent=1)
    if a.out:
        open(a.out, "w").write(text)
    print(text)


def score(ds: Any, y: np.ndarray, points: list[dict[str, float]], synthetic: list[np.ndarray], tr: float,
          transient_s: float, window: int, step: int) -> dict[str, Any]:
    """FC r, FC RMSE and FCD KS of every candidate against the group, each subject and each synthetic target."""
    from scipy.stats import ks_2samp

    from engine.data.dataset import functional_connectivity
    from engine.model import fcd

    iu = np.triu_indices(ds.n_nodes, 1)
    subjects = [functional_connectivity(s.T) for s in ds.scans]
    emp = fcd.empirical_fcd_values(ds.scans, window, step)
    syn_fc = [functional_connectivity(s) for s in synthetic]
    syn_fcd = [fcd._fcd_values_np(s, window, step) for s in synthetic]  # noqa: SLF001
    rmse = lambda a, b: float(np.sqrt(np.mean((a[iu] - b[iu]) ** 2)))  # noqa: E731
    prefixes = [d for d in (60, 120, 200, 400, 800) if transient_s + d / 2 < y.shape[0] * tr + transient_s]
    rows = []
    for b, pt in enumerate(points):
        row: dict[str, Any] = dict(pt)
        for d in prefixes:
            n = int((d - transient_s) / tr)
            if n <= y.shape[0]:
                row[f"r_group_{d}s"] = _r(functional_connectivity(y[:n, :, b]), ds.target_fc)
        fc = functional_connectivity(y[:, :, b])
        vals = fcd._fcd_values_np(y[:, :, b], window, step)  # noqa: SLF001
        row.update({"r_group": _r(fc, ds.target_fc), "rmse_group": rmse(fc, ds.target_fc),
                    "r_subjects": [_r(fc, s) for s in subjects], "rmse_subjects": [rmse(fc, s) for s in subjects],
                    "fcd_ks": float(ks_2samp(vals, emp).statistic), "bold_std": float(y[:, :, b].std()),
                    "mean_fc": float(fc[iu].mean()),
                    "r_synthetic": [_r(fc, s) for s in syn_fc], "rmse_synthetic": [rmse(fc, s) for s in syn_fc],
                    "ks_synthetic": [float(ks_2samp(vals, s).statistic) for s in syn_fcd]})
        rows.append(row)
    return {"tr_s": tr, "transient_s": transient_s, "fcd_window": window, "fcd_step": step,
            "baseline_group": _r(ds.cmat, ds.target_fc), "baseline_subjects": [_r(ds.cmat, s) for s in subjects],
            "baseline_synthetic": [_r(ds.cmat, s) for s in syn_fc], "mean_fc_group": float(ds.target_fc[iu].mean()),
            "rows": rows}


if __name__ == "__main__":
    main()
