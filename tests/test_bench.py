"""``wcfit-tui bench``: the engine and the seed's code path timed side by side, as JSON and as a table."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import run_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    # pinned to the CPU on any machine (the suite's header names the in-process backend): these tests read the CPU's
    # layout (1× cpu, 6 candidates padded to a vector of 8); tests/test_gpu.py checks the GPU's
    env = dict(os.environ, JAX_PLATFORMS="cpu")  # the suite's shared compilation cache (conftest)
    return subprocess.run([sys.executable, "-m", "tui.main", "bench", *args], env=env, capture_output=True,
                          text=True, timeout=900, cwd=ROOT)


def test_bench_json_has_both_codes_per_batch_and_consistent_figures() -> None:
    proc = _bench("--batch", "6,1,6", "--duration", "30", "--json")  # measured smallest first, once each
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["n_steps"] == 299 and res["n_nodes"] == 80 and res["noise"] == "per-candidate"
    assert [r["batch"] for r in res["rows"]] == [1, 6]
    for row in res["rows"]:
        eng, ref = row["engine"], row["reference"]
        for r in (eng, ref):
            assert r["wall_s"] > 0 and r["candidates_per_s"] == r["batch"] / r["wall_s"]
            assert abs(r["sim_s_per_wall_s"] - r["batch"] * 0.030 / r["wall_s"]) < 1e-9
        assert row["speedup"] == ref["wall_s"] / eng["wall_s"]
        assert 0 < eng["mem_per_candidate_bytes"] <= 1_000_000 and eng["mem_source"] == "XLA memory analysis"
    assert res["rows"][1]["engine"]["layout"].endswith("batch 6 in 8 lanes, chunks of 8")  # padded to a vector


def test_bench_table_names_the_layout_and_rejects_bad_options() -> None:
    proc = _bench("--batch", "2", "--duration", "20", "--no-reference", "--common-noise", "--unroll", "3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│")]
    assert "common noise" in proc.stdout and len(rows) == 1 and "engine" in rows[0] and "reference" not in rows[0]
    assert "engine: 1× cpu, batch 2, chunks of 2, unroll 3" in proc.stdout
    bad = run_main("bench", "--unroll", "-1")  # bad options: the same main() in-process
    assert bad.returncode == 2 and "expected 0 or more" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_main("bench", "--batch", "0,4")
    assert bad.returncode == 2 and "positive integers" in bad.stderr


def test_engine_memory_is_its_own_even_where_the_device_peak_is_polluted(bundled, monkeypatch) -> None:
    from engine.bench import speed as bench

    monkeypatch.setattr(bench, "_peak_bytes", lambda device: 50_000_000_000)  # as after a large reference run on a GPU
    row = bench.bench_engine(bundled, 2, 20.0, common_noise=True)
    assert row["mem_source"] == "XLA memory analysis" and 0 < row["mem_per_candidate_bytes"] <= 1_000_000
    assert row["device_peak_bytes"] == 50_000_000_000  # kept, but only as the process's high-water mark


# -- the other modes through the command line's main(), on a small generated dataset (short runs, one compile each) --

import json as _json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def eight(tmp_path_factory: pytest.TempPathFactory) -> str:
    """8 regions, 2 scans at TR 0.72 s, hemispheres from labels."""
    from tests.support import random_structure

    rng = np.random.default_rng(1)
    c, d = random_structure(8, rng)
    path = tmp_path_factory.mktemp("bench") / "eight.npz"
    np.savez(path, Cmat=c, Dmat=d, BOLDs=rng.normal(size=(2, 8, 100)), TR=0.72)
    return str(path)


def _json_of(*argv: str) -> dict:
    r = run_main("bench", *argv, "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    return _json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_bench_realizations_times_r_realisations_beside_one(eight: str) -> None:
    res = _json_of("--data", eight, "--batch", "2", "--duration", "20", "--no-reference", "--realizations", "3")
    assert res["realizations"] == 3 and [r["batch"] for r in res["rows"]] == [2]
    row = res["rows"][0]
    one, many = row["engine"], row["engine_realizations"]
    assert one["batch"] == many["batch"] == 2 and "reference" not in row
    assert "3 noise realisations each" in many["layout"] and "realisations" not in one["layout"]
    assert row["realization_cost"] == many["wall_s"] / one["wall_s"] and row["realization_cost"] > 0


@pytest.mark.slow
def test_bench_observe_bold_times_raw_re_bold_and_bold_with_fcd(eight: str) -> None:
    res = _json_of("--data", eight, "--observe", "bold", "--batch", "2", "--duration", "55000", "--repeats", "1")
    assert res["n_nodes"] == 8 and res["duration_ms"] == 55000.0 and res["data"] == "eight"
    assert [(r["label"], r["observe"], r["objective"]) for r in res["rows"]] == \
        [("rE", "rE", "fc"), ("bold", "bold", "fc"), ("bold+fcd", "bold", "fc+fcd_ks")]
    raw, bold, fcd = res["rows"]
    assert raw["samples"] == 0 and bold["samples"] == fcd["samples"] == int((55_000 - 20_000) / 720)  # 48 at TR 0.72
    assert bold["samples_bytes_per_candidate"] == 48 * 8 * 4  # float32 samples of 8 regions
    assert raw["vs_rE"] == 0.0 and all(r["wall_s"] > 0 and r["batch"] == 2 for r in res["rows"])


@pytest.mark.slow
def test_bench_regional_times_every_model_against_its_coupling_s_homogeneous_one(eight: str) -> None:
    from engine.bench.regional import VARIANTS

    res = _json_of("--data", eight, "--regional", "--batch", "2", "--duration", "12000", "--repeats", "1")
    assert res["n_nodes"] == 8 and [r["model"] for r in res["rows"]] == [v[0] for v in VARIANTS]
    assert all(r["batch"] == 2 and r["wall_s"] > 0 and r["init_s"] > 0 for r in res["rows"])
    assert res["rows"][0]["relative"] == 1.0 and res["rows"][3]["relative"] == 1.0  # each coupling's own baseline


def test_a_batch_s_wall_time_includes_its_simulation_without_a_progress_callback(small) -> None:
    """BatchResult.wall_s (the bench's and the run log's time) is the batch's own: JAX dispatches asynchronously, and a
    call without a progress callback (bench --regional, the notebook API) reported the dispatch alone — 0.01 s of a
    9 s batch, which made `bench --regional`'s homogeneous rows 0.00 s and every ratio against them meaningless."""
    import time

    import jax

    from engine.config import FitConfig
    from engine.model.objective import Objective

    cfg = FitConfig(batch=4, budget=4, duration_ms=5000.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})
    obj = Objective(small, cfg, devices=jax.devices()[:1])
    obj.compile()
    values = np.linspace(0.5, 3.0, 4, dtype=np.float32).reshape(-1, 1)
    t0 = time.perf_counter()
    res = obj(values)
    outer = time.perf_counter() - t0
    assert 0.5 * outer <= res.wall_s <= outer, (res.wall_s, outer)
