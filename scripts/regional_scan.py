"""Landscape scans behind the regional preset (README, "Regional heterogeneity"): BOLD FC of a batch of candidates with
regional parameters, FIC and either coupling, scored against a target on all edges and within hemispheres.

    python scripts/regional_scan.py --data /work/shared/data/schaefer100/schaefer100_train706.npz \\
        --scan drive-maps --duration 200 --out scan.json

A scan is a named list of points (``SCANS``); every point shares the settings of its scan (local set, coupling, FIC,
maps) and differs in the values given. One simulation per point through the product's ``Objective`` (the same noise
stream, segments and BOLD as a fit), scored afterwards in float64: FC r over all edges and over within-hemisphere
edges (regions whose labels end in _L / _R, start with LH_ / RH_, or else the first and second half), the structural
baselines on the same edges, and FCD KS against the data's FCD values (``--fcd-values``) or its scans.
``--target synthetic:SCAN:I`` scores against the FC made by point I of SCAN at another noise seed (ground truth).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from typing import Any

import numpy as np


def hemispheres(labels: tuple[str, ...] | None, n: int) -> np.ndarray:
    """0 (left) / 1 (right) per region, from labels when they say, else the first and second half."""
    if labels:
        lab = [x.strip() for x in labels]
        if all(x.upper().startswith(("LH", "RH")) for x in lab):
            return np.array([0 if x.upper().startswith("LH") else 1 for x in lab])
        if all(x.upper().endswith(("_L", "_R")) for x in lab):
            return np.array([0 if x.upper().endswith("_L") else 1 for x in lab])
    return (np.arange(n) >= n // 2).astype(int)


def edge_masks(hemi: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Upper-triangle index pairs of all edges and of within-hemisphere edges."""
    iu = np.triu_indices(hemi.size, 1)
    same = hemi[iu[0]] == hemi[iu[1]]
    return {"all": iu, "within": (iu[0][same], iu[1][same])}


def corr(a: np.ndarray, b: np.ndarray, idx: tuple[np.ndarray, np.ndarray]) -> float:
    """Pearson r of two matrices over the edges ``idx``."""
    return float(np.corrcoef(a[idx], b[idx])[0, 1])


def grid(**axes: list[float]) -> list[dict[str, float]]:
    """Every combination of the axes' values."""
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(axes[k] for k in keys))]


NEUROLIB_FIC = dict(local_set="neurolib", coupling="additive", fic=True)
DEFAULT_1972 = dict(local_set="1972", coupling="diffusive", fic=False)

#: scan name → (settings shared by its points, fixed values, points)
SCANS: dict[str, tuple[dict[str, Any], dict[str, float], list[dict[str, float]]]] = {
    # neurolib node, additive coupling, FIC: drive following the FC gradient and in-strength
    "drive-maps": (NEUROLIB_FIC, {"sigma": 0.05, "fic_target": 0.05},
                   grid(k=[2.0, 5.0, 10.0], ext_E=[0.5, 0.75], **{"ext_E@fcgradient": [-0.6, -0.3, 0.0, 0.3, 0.6],
                                                                  "ext_E@strength": [0.0, -0.5]})
                   + [{"k": k, "ext_E": e, "ext_E@fcgradient": 0.0, "ext_E@strength": 0.0, "_nofic": 1.0}
                      for k in (2.0, 5.0) for e in (0.5, 0.75)]),
    # today's node and coupling near the tipping point (the bold preset's ridge), drive following maps
    "bold-maps": (DEFAULT_1972, {"sigma": 0.05},
                  grid(k=[16.0, 32.0, 48.0], ext_E=[0.1, 0.2], **{"ext_E@fcgradient": [-0.6, -0.3, 0.0, 0.3, 0.6],
                                                                  "ext_E@strength": [0.0, -0.5]})
                  + [{"k": k, "ext_E": 0.15, "ext_E@fcgradient": 0.0, "ext_E@strength": 0.0} for k in (8.0, 24.0, 40.0, 64.0)]),
    # around the best of drive-maps: weaker coupling, stronger negative coefficients; and cuBNM's shipped gradient
    "drive-maps-fine": (NEUROLIB_FIC, {"sigma": 0.05, "fic_target": 0.05},
                        grid(k=[1.0, 2.0, 3.0], ext_E=[0.75, 1.0], **{"ext_E@fcgradient": [-0.9, -0.6, -0.3],
                                                                      "ext_E@strength": [-0.75, -0.5, -0.25]})
                        + grid(k=[2.0], ext_E=[0.75], **{"ext_E@fcgradient01": [0.3, 0.6, 0.9],
                                                         "ext_E@strength": [-0.5, 0.0]})
                        + [{"k": 2.0, "ext_E": 0.75, "fic_target": e, "ext_E@fcgradient": -0.6,
                            "ext_E@strength": -0.5} for e in (0.03, 0.04, 0.06, 0.07)]),
    # maps that do not come from the FC: myelin (T1w/T2w) and gene expression PC1, with in-strength
    "myelin-maps": (NEUROLIB_FIC, {"sigma": 0.05, "fic_target": 0.05},
                    grid(k=[1.5, 2.5], ext_E=[0.75, 1.0], **{"ext_E@myelinmap": [-0.9, -0.6, -0.3, 0.3, 0.6, 0.9],
                                                             "ext_E@strength": [0.0, -0.5]})
                    + grid(k=[2.0], ext_E=[0.75], **{"ext_E@genepc1": [-0.9, -0.6, -0.3, 0.3, 0.6, 0.9],
                                                     "ext_E@strength": [0.0, -0.5]})
                    + grid(k=[1.5, 2.5], ext_E=[0.75, 1.0], **{"ext_E@myelinmap": [0.0]})),
}


def run_scan(ds: Any, name: str, duration_s: float, seed: int = 0, points: list[dict[str, float]] | None = None,
             extra: dict[str, Any] | None = None) -> tuple[np.ndarray, list[dict[str, float]], Any]:
    """BOLD samples (B, S, N) of a scan's points (or ``points`` with the scan's settings) and the objective used."""
    from engine import presets
    from engine.model.objective import Objective

    settings, fixed, pts = SCANS[name]
    pts = points if points is not None else pts
    settings = {**settings, **(extra or {})}
    groups: dict[bool, list[int]] = {}
    for i, pt in enumerate(pts):
        groups.setdefault(bool(pt.get("_nofic")), []).append(i)
    out = [None] * len(pts)
    obj = None
    for nofic, idx in groups.items():
        names = sorted({k for i in idx for k in pts[i] if not k.startswith("_")})
        bounds = {n: (-1.0, 1.0) if "@" in n else ((0.01, 0.5) if n == "fic_target" else (0.0, 100.0)) for n in names}
        fix = {k: v for k, v in fixed.items() if k not in names}
        st = dict(settings)
        if nofic:
            st["fic"] = False
            fix.pop("fic_target", None)
        cfg = presets.get("bold").config(duration_ms=duration_s * 1000.0, bounds=bounds, fixed=fix, objective="fc",
                                         batch=len(idx), budget=len(idx), seed=seed, **st)
        obj = Objective(ds, cfg)
        vals = np.array([[pts[i].get(n, fixed.get(n, 0.0)) for n in cfg.names] for i in idx], np.float32)
        y = obj.samples(vals)
        bad = np.asarray(obj.params.checks(vals)[1]) if cfg.fic else None  # FIC's infeasible regions
        for j, i in enumerate(idx):
            out[i] = (y[j], None if bad is None else int(bad[j]))
    return out, pts, obj  # type: ignore[return-value]


def main() -> None:
    """Run one scan and print JSON scores."""
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="bundled")
    p.add_argument("--scan", default="drive-maps", choices=sorted(SCANS))
    p.add_argument("--duration", type=float, default=200.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fcd-values", default=None, help="a .npy of empirical FCD values (30-TR windows, step 5)")
    p.add_argument("--points", default=None, help="a JSON list of points instead of the scan's own")
    p.add_argument("--train", default=None, metavar="I,J,…",
                   help="fit target = the FC of these scans only (maps derived from it); score the rest as held out")
    p.add_argument("--synthetic", type=int, default=None, metavar="I",
                   help="also score every point against point I's own FC simulated at seed + 1 (ground truth)")
    p.add_argument("--out", default=None)
    a = p.parse_args()
    from scipy.stats import ks_2samp

    from engine.data.dataset import load_dataset
    from engine.model import fcd

    ds = load_dataset(a.data)
    test_fc = None
    if a.train:
        import dataclasses

        from engine.data.dataset import functional_connectivity as fcx

        train = [int(i) for i in a.train.split(",")]
        rest = [i for i in range(len(ds.scans)) if i not in train]
        test_fc = np.mean([fcx(ds.scans[i].T) for i in rest], axis=0)
        ds = dataclasses.replace(ds, scans=tuple(ds.scans[i] for i in train), n_scans=len(train),
                                 target_fc=np.mean([fcx(ds.scans[i].T) for i in train], axis=0))
    t0 = time.perf_counter()
    pts = json.loads(open(a.points).read()) if a.points else None
    sims, pts, obj = run_scan(ds, a.scan, a.duration, a.seed, pts)
    wall = time.perf_counter() - t0
    masks = edge_masks(hemispheres(ds.labels, ds.n_nodes))
    emp = np.load(a.fcd_values) if a.fcd_values else (
        fcd.empirical_fcd_values(ds.scans, 30, 5) if ds.scans else None)
    from engine.data.dataset import functional_connectivity

    rows = []
    for pt, (y, infeasible) in zip(pts, sims):
        y = np.asarray(y, np.float64)
        fc = functional_connectivity(y)
        row: dict[str, Any] = {k: v for k, v in pt.items()}
        row.update({f"r_{e}": corr(fc, ds.target_fc, m) for e, m in masks.items()})
        if test_fc is not None:
            row.update({f"r_{e}_test": corr(fc, test_fc, m) for e, m in masks.items()})
        row["fic_infeasible"] = infeasible
        row["mean_fc"] = float(fc[masks["all"]].mean())
        if emp is not None and y.shape[0] >= 40:
            row["fcd_ks"] = float(ks_2samp(fcd._fcd_values_np(y, 30, 5), emp).statistic)  # noqa: SLF001
        rows.append(row)
    syn = None
    if a.synthetic is not None:
        (ys, _), = run_scan(ds, a.scan, a.duration, a.seed + 1, [pts[a.synthetic]])[0]
        syn = functional_connectivity(np.asarray(ys, np.float64))
        for row, (y, _) in zip(rows, sims):
            fc = functional_connectivity(np.asarray(y, np.float64))
            row.update({f"r_{e}_synthetic": corr(fc, syn, m) for e, m in masks.items()})
    out = {"data": ds.name, "scan": a.scan, "settings": SCANS[a.scan][0], "fixed": SCANS[a.scan][1],
           "duration_s": a.duration, "seed": a.seed, "wall_s": wall, "candidates": len(rows),
           "baseline": {e: corr(ds.cmat, ds.target_fc, m) for e, m in masks.items()},
           **({"baseline_test": {e: corr(ds.cmat, test_fc, m) for e, m in masks.items()}} if test_fc is not None else {}),
           **({"synthetic_at": pts[a.synthetic],
               "baseline_synthetic": {e: corr(ds.cmat, syn, m) for e, m in masks.items()}} if syn is not None else {}),
           "rows": sorted(rows, key=lambda r: -r["r_within"])}
    text = json.dumps(out, indent=1)
    if a.out:
        open(a.out, "w").write(text)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"} | {"top": out["rows"][:5]}, indent=1))


if __name__ == "__main__":
    main()
