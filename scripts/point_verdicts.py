"""Fresh-noise verdicts of points near a fitted one: each override of the base point judged as a fit's end judges it.

The base is `hopf-gradient-sigma`'s best point (docs/regional.md), the `regional` preset's settings with FIC held at
rE 0.07 (the node's Hopf point), scored on `schaefer100` and held out on `schaefer100-test`. Each override changes
some of the point's values (a regional coefficient such as ``tau_E@fcgradient`` too); ``--fixed`` changes fixed
settings for every point (``signal_speed``, ``fic_target``). Points are judged two at a time, in one batched call
each, with ``--seeds`` noise seeds no fit uses (``engine.model.fresh.fresh_verdict``). Used for the delay and
frequency-gradient checks of docs/regional.md. Run, for example:

    python scripts/point_verdicts.py --fixed '{"signal_speed": 4}' '{}' '{"k": 6.78}'
    python scripts/point_verdicts.py '{"tau_E@fcgradient": 0.6, "tau_I@fcgradient": 0.6}'
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.devices import use_cpu_cores_as_devices  # noqa: E402

use_cpu_cores_as_devices()

from engine import api  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.model.fresh import fresh_verdict  # noqa: E402
from engine.prepare import align_group_fcd  # noqa: E402

BASE = {"sigma": 0.108, "k": 5.65, "ext_E": 1.06, "ext_E@fcgradient": -0.78, "fic_target@fcgradient": 0.11}


def main() -> None:
    """Parse the overrides and print one line per point: fresh r, FCD KS, mean FC, held-out r and KS, node regime."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overrides", nargs="+", help="JSON objects: values that replace the base point's")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--duration", type=float, default=400_000.0, help="simulated ms per run")
    ap.add_argument("--fixed", default="{}", help="JSON: fixed settings for every point (fic_target 0.07 unless given)")
    args = ap.parse_args()
    overs = [json.loads(o) for o in args.overrides]
    fixed = {"fic_target": 0.07, **json.loads(args.fixed)}
    train, test = load_dataset("schaefer100"), load_dataset("schaefer100-test")
    keys = sorted({k for o in overs for k in o} | set(BASE))
    for i in range(0, len(overs), 2):
        pair = overs[i:i + 2]
        points = [{k: float(o.get(k, BASE.get(k, 0.0))) for k in keys} for o in pair]
        bounds = {k: (min(p[k] for p in points) - 0.01, max(p[k] for p in points) + 0.01) for k in keys}
        cfg = align_group_fcd(api.preset("regional", fixed=fixed, test_data="schaefer100-test", bounds=bounds,
                                         duration_ms=args.duration), train)
        t0 = time.perf_counter()
        verdict = fresh_verdict(cfg, train, points, seeds=args.seeds, test_dataset=test)
        judged = [verdict.best] + ([verdict.recommendation] if verdict.recommendation is not None else [])
        for o, pv in zip(pair, judged):
            d = pv.to_dict()
            te = d["test"] or {}
            reg = pv.node_regime or {}
            print(f"{json.dumps(o)} {json.dumps(json.loads(args.fixed))}: r {d['fc_corr_mean']:.3f} ± "
                  f"{d['fc_corr_sd']:.3f}, KS {d['fcd_ks_mean']:.3f} ± {d['fcd_ks_sd']:.3f}, mean FC "
                  f"{d['mean_fc_mean']:.3f} (data {d['data_mean_fc']:.3f}) | held out r {te.get('fc_corr_mean', 0):.3f}, "
                  f"KS {te.get('fcd_ks_mean', 0):.3f} | FIC unheld {pv.fic_infeasible}, regions quiet "
                  f"{reg.get('quiet')} oscillating {reg.get('oscillating')} saddle {reg.get('saddle')}, "
                  f"{reg.get('frequency_hz', 0):.0f} Hz", flush=True)
        print(f"  ({time.perf_counter() - t0:.0f} s, {args.seeds} seeds, {args.duration / 1000:g} s simulated)",
              flush=True)


if __name__ == "__main__":
    main()
