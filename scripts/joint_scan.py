"""Joint FC / FC-level / FCD scan of the regional Wilson–Cowan network on Schaefer-100 (docs/joint_scan.md).

Every point is simulated through the product's own ``Objective`` (the ``regional`` preset's settings with overrides:
local set, coupling, FIC, maps, noise) and scored afterwards in numpy float64, independently of the product's loss:

* ``r``      — Pearson r of model and target FC on within-hemisphere upper-triangle edges (regions 0–49 / 50–99);
* ``mfc``    — the model's mean FC on those edges (the data's: ``mfc_data``);
* ``ks``     — two-sample KS statistic of the model's FCD values against the group's empirical ones, cuBNM's
  "exc-inter" FCD: sliding windows of 30 TRs, step 5 TRs, each window's FC restricted to within-hemisphere edges,
  FCD = upper triangle of the correlation matrix of those window-FC vectors;
* ``fic_bad`` — regions where FIC found no positive I→E weight (wIE clipped to 0).

Each candidate gets its own noise (``common_noise=False``); a point is repeated in ``--reps`` lanes of one batch
(independent noise; ``--seed`` picks fresh noise) and reported as mean ± sd over them. Scans are named lists of
points (``SCANS``); ``--points`` takes a JSON list instead. The drive's FC gradient is always the train group's.

    python scripts/joint_scan.py --scan coarse --duration 200 --reps 1 --seed 0
    python scripts/joint_scan.py --scan refine --duration 200 --seed 2
    python scripts/joint_scan.py --scan best --data schaefer100-test --duration 400 --reps 4 --seed 303
    python scripts/joint_scan.py --null            # the map-alone nulls only (no simulation)

Cost on 2 busy shared cores: 0.03–0.12 wall s per lane per simulated second at dt 0.1 ms (dt 0.25 ms, used from the
``feasible`` scan on, reproduced dt 0.1's scores within 0.01 and runs ≈ 2.5× faster); use ``nice``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: cuBNM's group FCD values (exc-inter, windows of 30 TRs, step 5) as extracted from its 0.1.0 wheel.
CUBNM_FCD = ("/tmp/cubnm/x/cubnm/data/hcp/fcd/group-{group}/REST/"
             "ctx_parc-schaefer-100_exc-inter_window-30_step-5_desc-fcdtril.npz")
GROUP = {"schaefer100": "train706", "schaefer100-test": "test303"}
WINDOW, STEP = 30, 5


# --- scoring (numpy float64) -------------------------------------------------------------------------------------

def within_edges(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle within-hemisphere edges (first half left, second half right)."""
    iu = np.triu_indices(n, 1)
    same = (iu[0] < n // 2) == (iu[1] < n // 2)
    return iu[0][same], iu[1][same]


def fcd_exc_inter(y: np.ndarray, edges: tuple[np.ndarray, np.ndarray], window: int = WINDOW,
                  step: int = STEP) -> np.ndarray:
    """FCD values of a signal (S, N): windows' FCs on ``edges`` only, their correlations' upper triangle."""
    starts = range(0, y.shape[0] - window + 1, step)
    vecs = np.array([np.corrcoef(y[s:s + window].T)[edges] for s in starts])
    fcd = np.corrcoef(vecs)
    return fcd[np.triu_indices(len(vecs), 1)]


def ks_stat(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic."""
    a, b = np.sort(a), np.sort(b)
    x = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, x, "right") / a.size - np.searchsorted(b, x, "right") / b.size)))


def score(y: np.ndarray, target_fc: np.ndarray, emp_fcd: np.ndarray) -> dict[str, float]:
    """Within-hemisphere r, model mean FC, FCD KS (and the FCD values' median) of one BOLD signal (S, N)."""
    y = np.asarray(y, np.float64)
    e = within_edges(y.shape[1])
    if not np.isfinite(y).all() or (y.std(axis=0) == 0).any():
        return {"r": np.nan, "mfc": np.nan, "ks": np.nan, "fcd_med": np.nan}
    fc = np.corrcoef(y.T)
    f = fcd_exc_inter(y, e)
    return {"r": float(np.corrcoef(fc[e], target_fc[e])[0, 1]), "mfc": float(fc[e].mean()),
            "ks": ks_stat(f, emp_fcd), "fcd_med": float(np.median(f))}


def map_nulls(ds: Any) -> dict[str, float]:
    """'Map alone': r of −|m_i − m_j| with the target FC on within-hemisphere edges, for the maps that matter."""
    from engine.data import maps

    e = within_edges(ds.n_nodes)
    out = {"structure (Cmat)": float(np.corrcoef(ds.cmat[e], ds.target_fc[e])[0, 1])}
    for name in ("fcgradient", GRADIENT_MAP, "fcgradient01", "myelinmap", "strength"):
        m = maps.resolve((name,), ds, ds.target_fc, {GRADIENT_MAP: train_gradient_file()})[name]
        pred = -np.abs(m[:, None] - m[None, :])
        out[name] = float(np.corrcoef(pred[e], ds.target_fc[e])[0, 1])
    return out


# --- simulation ---------------------------------------------------------------------------------------------------

def grid(**axes: list[float]) -> list[dict[str, float]]:
    """Every combination of the axes' values."""
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(axes[k] for k in keys))]


#: The FC gradient derived from the *train* group's FC (the product's ``fcgradient`` on ``schaefer100``), given to
#: every run as the map ``fcgradtrain``, so that a held-out run on ``schaefer100-test`` does not take its map from
#: the FC it is scored against.
GRADIENT_MAP = "fcgradtrain"

#: The preset's map coefficients.
MAPS0 = {"ext_E@fcgradtrain": -0.6, "ext_E@strength": -0.5}


def train_gradient_file() -> str:
    """A file holding the train group's derived FC gradient (written once to the temp folder)."""
    import tempfile

    from engine.data import maps
    from engine.data.dataset import load_dataset

    path = Path(tempfile.gettempdir()) / "joint_scan_fcgradient_train706.txt"
    if not path.exists():
        tr = load_dataset("schaefer100")
        g = maps.resolve(("fcgradient",), tr, tr.target_fc, {})["fcgradient"]
        path.write_text("\n".join(f"{v:.10g}" for v in g))
    return str(path)

#: A: the best joint point found (FCD and FC level matched, FC pattern weak); every region FIC-feasible.
BEST_JOINT = {"fic_target": 0.1, "ext_E": 1.0, "ext_E@fcgradtrain": -0.8, "ext_E@strength": 0.0, "k": 5.0, "sigma": 0.1}
#: B: the shipped preset's regime (E* 0.05, its maps) at the σ and drive that scored best on FC in the coarse scan.
BEST_FC = {"fic_target": 0.05, "ext_E": 0.85, "ext_E@fcgradtrain": -0.6, "ext_E@strength": -0.5, "k": 2.0, "sigma": 0.1}

#: The bold preset's point (1972 set, diffusive coupling) with the drive following the gradient.
B1972 = {"k": 40.0, "ext_E": 0.2, "ext_E@fcgradtrain": -0.5, "sigma": 0.05}

#: scan name → (FitConfig overrides shared by the points, fixed values, points)
SCANS: dict[str, tuple[dict[str, Any], dict[str, float], list[dict[str, float]]]] = {
    # the shipped preset's start, then noise × coupling × drive with the preset's maps
    "coarse": ({}, {"fic_target": 0.05},
               grid(sigma=[0.1, 0.3, 0.6, 1.0], k=[1.0, 2.0, 3.0, 5.0], ext_E=[0.6, 0.85], **{k: [v] for k, v in MAPS0.items()})),
    # every region FIC-feasible (no in-strength term, drive ≥ 0.4 everywhere): E*, drive, gradient coefficient, k, noise
    "feasible": ({"dt_ms": 0.25}, {},
                 grid(fic_target=[0.05, 0.08], ext_E=[1.0, 1.6], **{"ext_E@fcgradtrain": [-0.3, -0.6]},
                      **{"ext_E@strength": [0.0]}, k=[2.0, 4.0], sigma=[0.1, 0.4])),
    # towards the network's instability from the best feasible point: higher E*, stronger coupling, less noise
    "refine": ({"dt_ms": 0.25}, {},
               grid(fic_target=[0.08, 0.1], ext_E=[0.8, 1.0], **{"ext_E@fcgradtrain": [-0.6, -0.8]},
                    **{"ext_E@strength": [0.0]}, k=[5.0, 7.0], sigma=[0.05, 0.1])),
    # the held-out check: the joint best (A), two neighbours, and the shipped preset's regime at its best σ (B)
    "best": ({"dt_ms": 0.25}, {}, [BEST_JOINT, {**BEST_JOINT, "k": 4.5}, {**BEST_JOINT, "ext_E@strength": -0.3},
                                   BEST_FC]),
    # today's 1972 node with diffusive coupling, no FIC, at the bold preset's point, drive following the gradient
    "bold-1972": ({"local_set": "1972", "coupling": "diffusive", "fic": False}, {},
                  [{**B1972, **m} for m in ({"ext_E@fcgradtrain": 0.0}, {}, {"ext_E@fcgradtrain": 0.5}, {"k": 30.0},
                                           {"k": 48.0}, {"ext_E": 0.15}, {"ext_E": 0.25},
                                           {"k": 24.0, "ext_E@fcgradtrain": 0.0})]),
    # neighbours of A on train706 (400 s, two lanes each)
    "around": ({"dt_ms": 0.25}, {}, [{**BEST_JOINT, **m} for m in (
        {"ext_E@strength": -0.15}, {"k": 5.5}, {"k": 4.5}, {"ext_E": 1.1}, {"sigma": 0.15},
        {"ext_E@fcgradtrain": -0.7}, {"fic_target": 0.12}, {"ext_E@strength": -0.3, "sigma": 0.05})]),
}


def build(ds: Any, names: list[str], fixed: dict[str, float], overrides: dict[str, Any], duration_s: float,
          batch: int, seed: int) -> Any:
    """The regional preset's Objective for these fitted names (values given per candidate) and fixed values."""
    from engine import presets
    from engine.model.objective import Objective

    bounds = {}
    for n in names:
        if "@" in n:
            bounds[n] = (-1.0, 1.0)
        elif n == "fic_target":
            bounds[n] = (0.01, 0.5)
        elif n == "ext_E":
            bounds[n] = (-1.0, 3.0)
        else:
            bounds[n] = (0.0, 1000.0)
    overrides = {"maps": {GRADIENT_MAP: train_gradient_file()}, **overrides}
    cfg = presets.get("regional").config(bounds=bounds, fixed=fixed, duration_ms=duration_s * 1000.0,
                                         batch=batch, budget=batch, seed=seed, common_noise=False, objective="fc",
                                         edges="within", **overrides)
    return Objective(ds, cfg)


def run_points(ds: Any, points: list[dict[str, float]], fixed: dict[str, float], overrides: dict[str, Any],
               duration_s: float, reps: int, seed: int, emp_fcd: np.ndarray, lanes: int = 8,
               save: str | None = None) -> list[dict[str, Any]]:
    """Every point simulated ``reps`` times in one batch and scored.

    Each lane draws its own noise (``common_noise=False``: the config seed folded with the lane index), so the
    ``reps`` copies of a point are independent noise realisations; another ``seed`` gives fresh noise everywhere.
    The batch is padded to a multiple of ``lanes``.
    """
    names = sorted({k for p in points for k in p})
    points = [{n: p.get(n, fixed.get(n, np.nan)) for n in names} for p in points]
    if any(np.isnan(v) for p in points for v in p.values()):
        raise SystemExit("every point must give every varied parameter (or the fixed values must)")
    fix = {k: v for k, v in fixed.items() if k not in names}
    n = len(points) * reps
    obj = build(ds, names, fix, overrides, duration_s, -(-n // lanes) * lanes, seed)
    vals = np.array([[p[nm] for nm in obj.names] for p in points for _ in range(reps)], np.float32)
    t0 = time.perf_counter()
    y = obj.samples(vals)
    if save:
        np.save(save, y)
    bad = np.asarray(obj.params.checks(vals)[1]) if obj.config.fic else np.zeros(n, int)  # FIC's count
    print(f"  {n} lanes of {duration_s:g} s: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(points):
        sc = [score(y[i * reps + j], ds.target_fc, emp_fcd) for j in range(reps)]
        row: dict[str, Any] = dict(p)
        for key in ("r", "mfc", "ks", "fcd_med"):
            v = np.array([s[key] for s in sc])
            row[key], row[key + "_sd"] = float(np.mean(v)), float(np.std(v, ddof=1)) if v.size > 1 else 0.0
        row["fic_bad"] = int(bad[i * reps])
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], mfc_data: float, sort: str = "joint") -> str:
    """A text table of the rows; ``joint`` = r − KS − |Δ mean FC| (larger is better)."""
    for r in rows:
        r["joint"] = r["r"] - r["ks"] - abs(r["mfc"] - mfc_data)
    keys = [k for k in rows[0] if k not in ("r", "mfc", "ks", "fcd_med", "joint", "fic_bad") and not k.endswith("_sd")]
    short = {k: k.replace("ext_E@", "c_") for k in keys}
    head = " ".join(f"{short[k]:>13}" for k in keys) + f" {'r':>12} {'meanFC':>12} {'KS':>12} {'FCDmed':>7} {'FICbad':>6} {'joint':>6}"
    out = [head]
    for r in sorted(rows, key=lambda r: -np.nan_to_num(r[sort], nan=-9) if sort != "ks" else np.nan_to_num(r["ks"], nan=9)):
        out.append(" ".join(f"{r[k]:>13.4g}" for k in keys)
                   + f" {r['r']:6.3f}±{r['r_sd']:.3f} {r['mfc']:6.3f}±{r['mfc_sd']:.3f} {r['ks']:6.3f}±{r['ks_sd']:.3f}"
                   + f" {r['fcd_med']:7.3f} {r['fic_bad']:6d} {r['joint']:6.3f}")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="schaefer100", choices=sorted(GROUP))
    p.add_argument("--scan", default="coarse", choices=sorted(SCANS))
    p.add_argument("--points", default=None, help="a JSON list of points (overrides the scan's)")
    p.add_argument("--fixed", default=None, help="JSON dict of fixed values (overrides the scan's)")
    p.add_argument("--set", default=None, help="JSON dict of FitConfig overrides (local_set, coupling, fic, …)")
    p.add_argument("--duration", type=float, default=300.0, help="simulated s (20 s transient dropped)")
    p.add_argument("--reps", type=int, default=1, help="noise realisations per point (lanes of one batch)")
    p.add_argument("--seed", type=int, default=0, help="the batch's seed (fresh noise: a seed the scan never used)")
    p.add_argument("--save-bold", default=None, help="save every lane's BOLD (B, S, N) to this .npy")
    p.add_argument("--null", action="store_true", help="print the map-alone nulls and exit")
    p.add_argument("--out", default=None, help="write the rows as JSON")
    a = p.parse_args()

    from engine.data.dataset import load_dataset

    ds = load_dataset(a.data)
    e = within_edges(ds.n_nodes)
    mfc_data = float(ds.target_fc[e].mean())
    if a.null:
        for k, v in map_nulls(ds).items():
            print(f"{k:>18}: {v:.3f}")
        return
    emp = np.load(CUBNM_FCD.format(group=GROUP[a.data]))["arr_0"].astype(np.float64)
    overrides, fixed, points = SCANS[a.scan]
    if a.points:
        points = json.loads(Path(a.points).read_text() if Path(a.points).is_file() else a.points)
    if a.fixed:
        fixed = json.loads(a.fixed)
    if a.set:
        overrides = {**overrides, **json.loads(a.set)}
    t0 = time.perf_counter()
    rows = run_points(ds, points, fixed, overrides, a.duration, a.reps, a.seed, emp, save=a.save_bold)
    print(f"{a.data}: {len(points)} points × {a.reps} realisation(s), seed {a.seed}, {a.duration:g} s, fixed {fixed} "
          "(where a point does not vary them), "
          f"settings {overrides or 'preset'}; data mean FC (within) {mfc_data:.3f}; {time.perf_counter() - t0:.0f} s")
    print(table(rows, mfc_data))
    if a.out:
        Path(a.out).write_text(json.dumps({"data": a.data, "duration_s": a.duration, "reps": a.reps,
                                           "seed": a.seed, "fixed": fixed, "settings": overrides,
                                           "mfc_data": mfc_data, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
