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
