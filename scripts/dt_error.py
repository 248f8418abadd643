"""The error a coarser integration step (``--dt``) makes on FC, beside what it saves: the default ``bold`` preset at its
starting point, 400 s of BOLD, four noise seeds at each step; the model FC's correlation with the data and with the
dt 0.1 ms FC, and each step's seed-to-seed spread (the noise floor the error must be read against).

    python scripts/dt_error.py [--dts 0.1,0.2,0.25] [--seeds 4] [--duration 400000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine.data.compare import matrix_corr
from engine.data.dataset import load_dataset
from engine.model.objective import Objective
from engine.settings import config_from_settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dts", default="0.1,0.2,0.25")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--duration", type=float, default=400_000.0)
    args = ap.parse_args()
    ds = load_dataset(None)
    fcs: dict[float, list[np.ndarray]] = {}
    walls: dict[float, float] = {}
    for dt in (float(x) for x in args.dts.split(",")):
        fcs[dt] = []
        walls[dt] = 0.0
        for seed in range(1000, 1000 + args.seeds):  # seeds no fit uses
            cfg = config_from_settings({"preset": "bold", "dt_ms": dt, "duration_ms": args.duration, "batch": 1,
                                        "seed": seed})
            obj = Objective(ds, cfg)
            point = np.array([[40.0, 0.2]], np.float32)  # the preset's start: k 40, ext_E 0.2
            obj.compile()
            t0 = time.perf_counter()
            fcs[dt].append(np.asarray(obj(point).best_fc, np.float64))
            walls[dt] += time.perf_counter() - t0
    ref = np.mean(fcs[min(fcs)], axis=0)
    print(f"{'dt ms':>6} {'r with data':>12} {'sd over seeds':>14} {'r with dt-min FC':>17} {'seed pairs r':>13} "
          f"{'wall s / run':>13}")
    for dt, runs in fcs.items():
        rs = [matrix_corr(fc, ds.target_fc) for fc in runs]
        pair = [matrix_corr(a, b) for i, a in enumerate(runs) for b in runs[i + 1:]]
        print(f"{dt:6.3g} {np.mean(rs):12.3f} {np.std(rs):14.3f} {matrix_corr(np.mean(runs, axis=0), ref):17.3f} "
              f"{np.mean(pair):13.3f} {walls[dt] / len(runs):13.2f}")


if __name__ == "__main__":
    main()
