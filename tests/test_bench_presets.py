"""``wcfit-tui bench --presets``: the presets timed as fits run them, the peak estimate, and neurolib beside them."""

from __future__ import annotations

import json

import pytest

from engine.bench import neurolib_side
from engine.bench import presets as bench_presets

pytestmark = pytest.mark.slow


def test_peak_is_cores_times_clock_times_vector_width() -> None:
    peak = bench_presets.peak_flops(cores=3)
    assert peak["cores"] == 3
    assert peak["gflops"] == pytest.approx(3 * peak["ghz"] * bench_presets.FLOPS_PER_CYCLE)
    assert peak["ghz_source"] in ("/proc/cpuinfo", "assumed")
    assert 0.5 < peak["ghz"] < 7.0


def test_work_per_step_counts_coupling_and_nodes() -> None:
    # N² multiply-adds (2 operations each) and N node updates
    assert bench_presets.work_per_step(80) == 2 * 80 * 80 + bench_presets.NODE_FLOPS * 80
    assert bench_presets.work_per_step(100) - bench_presets.work_per_step(80) == pytest.approx(
        2 * (100 ** 2 - 80 ** 2) + bench_presets.NODE_FLOPS * 20)


def test_presets_bench_through_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.main import main

    rc = main(["bench", "--presets", "--batch", "2", "--duration", "60000", "--repeats", "1", "--no-neurolib",
               "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["preset"] for r in out["rows"]] == ["bold", "regional"]
    assert out["neurolib"] is None  # --no-neurolib
    bold, regional = out["rows"]
    assert (bold["n_nodes"], regional["n_nodes"]) == (80, 100)
    assert regional["fic"] and regional["coupling"] == "additive" and "fcd_ks" in regional["objective"]
    for r in out["rows"]:
        # the figure is candidates × simulated seconds ÷ wall seconds of one batch call
        assert r["cand_sim_s_per_s"] == pytest.approx(2 * 60.0 / r["wall_s"])
        steps_per_s = 1000.0 / 0.1
        assert r["gflops"] == pytest.approx(r["cand_sim_s_per_s"] * steps_per_s
                                            * bench_presets.work_per_step(r["n_nodes"]) / 1e9)
        if out["device"].split("× ")[1].startswith("cpu"):
            assert r["peak_fraction"] == pytest.approx(r["gflops"] / out["peak"]["gflops"])
            assert 0 < r["peak_fraction"] < 1


def test_presets_table_names_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.bench_presets import print_table

    row = {"preset": "bold", "data": "hcp80 (bundled)", "n_nodes": 80, "batch": 16, "duration_ms": 60000.0,
           "layout": "2× cpu", "objective": "fc+fcd_ks", "wall_s": 8.0, "cand_sim_s_per_s": 120.0, "gflops": 29.8,
           "peak_fraction": 0.2, "peak_rate": 600.0, "dt_ms": 0.1}
    print_table({"device": "2× cpu (cpu)", "peak": bench_presets.peak_flops(cores=2), "node_flops": 140,
                 "rows": [row], "neurolib": {"installed": False}})
    text = capsys.readouterr().out
    assert "wcfit-tui bold" in text and "120" in text and "20 %" in text and "600" in text
    assert "neurolib: not installed" in text


@pytest.mark.skipif(not neurolib_side.available(), reason="neurolib (the neurolib extra) is not installed")
def test_neurolib_runs_beside_the_engine() -> None:
    out = neurolib_side.run("bundled", duration_ms=1000.0, processes=2)
    assert out["installed"] and out["processes"] == 2 and out["n_nodes"] == 80
    assert out["cand_sim_s_per_s"] == pytest.approx(2 * 1.0 / out["wall_s"])
    assert out["wall_s"] > 0


def test_a_coarser_step_is_timed_and_counted_as_less_work() -> None:
    row = bench_presets.time_preset("bold", "bundled", batch=2, duration_ms=60_000.0, repeats=1, dt_ms=0.2)
    assert row["dt_ms"] == 0.2
    # half the steps per simulated second: the work follows the steps, not the simulated time
    assert row["gflops"] == pytest.approx(row["cand_sim_s_per_s"] * 5000.0 * bench_presets.work_per_step(80) / 1e9)
