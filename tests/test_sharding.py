"""The objective sharded over 4 host CPU devices equals the single-device result (run in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json
    import jax
    import numpy as np
    from engine.config import FitConfig
    from engine.data.dataset import load_dataset
    from engine.model.objective import Objective

    ds = load_dataset()
    cfg = FitConfig(batch=8, duration_ms=100.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05}, common_noise=True)
    values = np.linspace(0.5, 3.0, 8, dtype=np.float32).reshape(-1, 1)
    sharded = Objective(ds, cfg)
    single = Objective(ds, cfg, devices=[jax.devices()[0]])
    a, b = sharded(values), single(values)
    out_devices = {len(s.device_set) for s in jax.tree.leaves(sharded._compiled.output_shardings)}
    # own noise, 6 candidates padded to 8 lanes over 4 devices, the best (k = 3) on the third device
    own = FitConfig(batch=6, duration_ms=100.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05}, common_noise=False,
                    seed=2)
    vals = np.array([[0.5], [0.6], [0.7], [0.8], [0.9], [3.0]], np.float32)
    own_sharded, own_single = Objective(ds, own), Objective(ds, own, devices=[jax.devices()[0]])
    c, d = own_sharded(vals), own_single(vals)
    # sampled BOLD with an FCD term: the state carries the hemodynamics and the samples across devices
    bold = FitConfig(batch=4, duration_ms=14000.0, transient_ms=2000.0, observe="bold", tr_s=0.5, initial="steady",
                     objective="fc+fc_rmse", bounds={"k": (0.5, 60.0)}, fixed={"sigma": 0.05, "ext_E": 0.15})
    kb = np.array([[10.0], [30.0], [45.0], [20.0]], np.float32)
    e, f = Objective(ds, bold, segment_ms=3000.0)(kb), Objective(ds, bold, devices=[jax.devices()[0]])(kb)
    placed = Objective(ds, own, devices=[jax.devices()[2]])  # one device that is not JAX's default: it runs there
    state, _, _ = placed._simulate(vals, 0, None, None)
    placed_on = sorted(d.id for d in state.nodes.rE.devices())
    placed_losses = placed(vals).losses.tolist()
    tail = own_single(vals[3:], first_lane=3)  # lanes 3..5 alone: their noise is keyed by lane, not by position
    device0 = own_single(vals[:2]).best_fc
    extra = {"bold": [e.losses.tolist(), f.losses.tolist()], "bold_terms": [e.terms["fc_rmse"].tolist(),
             f.terms["fc_rmse"].tolist()], "bold_best": [e.best_index, f.best_index],
             "bold_signal": [list(e.best_signal.shape), float(abs(e.best_signal - f.best_signal).max())],
             "own_lanes": own_sharded.batch, "own_sharded": c.losses.tolist(), "own_single": d.losses.tolist(),
             "own_best": [c.best_index, d.best_index], "fc_diff": float(np.abs(c.best_fc - d.best_fc).max()),
             "fc_vs_device0": float(np.abs(c.best_fc - device0).max()), "tail": tail.losses.tolist(),
             "placed_on": placed_on, "placed": placed_losses}
    print(json.dumps({**extra, "n_devices": len(jax.devices()), "objective_devices": len(sharded.devices),
                      "out_devices": sorted(out_devices), "sharded": a.losses.tolist(), "single": b.losses.tolist(),
                      "best": [a.best_index, b.best_index],
                      "terms": [a.terms["fc"].tolist(), b.terms["fc"].tolist()],
                      "corr": [a.corr.tolist(), b.corr.tolist()]}))
""")


def test_sharded_objective_equals_single_device() -> None:
    # pinned to the CPU on any machine: 4 host devices are the layout under test (a GPU box may have one GPU)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["n_devices"] == 4 and res["objective_devices"] == 4
    assert res["out_devices"] == [4]  # the compiled function really is spread over the 4 devices
    diff = max(abs(x - y) for x, y in zip(res["sharded"], res["single"]))
    for sharded_, single_ in (res["terms"], res["corr"]):  # per-candidate outputs keep one value per candidate
        assert len(sharded_) == len(single_) == len(res["sharded"])
        assert max(abs(x - y) for x, y in zip(sharded_, single_)) < 1e-5
    assert res["terms"][0] == pytest.approx(res["sharded"])  # objective fc: the term is the loss
    for sharded_, single_ in (res["bold"], res["bold_terms"]):  # BOLD over 4 devices (segments too) equals one device
        assert len(sharded_) == len(single_) == 4
        assert max(abs(x - y) for x, y in zip(sharded_, single_)) < 1e-5
    assert res["bold_best"][0] == res["bold_best"][1]
    assert res["bold_signal"][0] == [24, 80] and res["bold_signal"][1] < 1e-6
    assert diff < 1e-5, res
    assert res["best"][0] == res["best"][1]
    # own noise across devices: padded lanes, lane keys and the best FC taken from the device that holds the best
    assert res["own_lanes"] == 8
    assert max(abs(x - y) for x, y in zip(res["own_sharded"], res["own_single"])) < 1e-5, res
    assert res["own_best"] == [5, 5]
    assert res["fc_diff"] < 1e-5 and res["fc_vs_device0"] > 1e-2
    assert max(abs(x - y) for x, y in zip(res["tail"], res["own_single"][3:])) < 1e-6, res
    # devices=[one device]: the objective runs on that device (as a CPU device on a GPU box), not on JAX's default
    assert res["placed_on"] == [2]
    assert max(abs(x - y) for x, y in zip(res["placed"], res["own_single"])) < 1e-6, res
