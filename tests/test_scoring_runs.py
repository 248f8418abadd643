"""Scoring options through run directories, the command line, exports, studies' columns and the app's form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import FitConfig
from engine.data.dataset import functional_connectivity
from tests.support import scans_dataset as _scans_dataset, stopped_run, wait_for


def test_a_split_run_resumes_and_ends_with_its_held_out_check(tmp_path: Path) -> None:
    from engine import runs
    from engine.runs.layout import candidate_rows
    from engine.search import Search

    ds = _scans_dataset()
    cfg = FitConfig(bounds={"k": (0.5, 3.0)}, batch=2, budget=4, duration_ms=300.0, split="halves", edges="within",
                    realizations=2)
    first = stopped_run(cfg, ds, tmp_path, "r")
    assert first.status == "stopped" and first.held_out is None
    # the stored target is the training scans' FC; every logged row says which edges and realisations it used
    train_fc = np.mean([functional_connectivity(ds.scans[i].T) for i in (0, 1)], axis=0)
    np.testing.assert_allclose(np.load(tmp_path / "r" / runs.TARGET_FC), train_fc, atol=1e-12)
    rows = runs.read_log(tmp_path / "r" / runs.LOG)
    assert rows and all(r["edges"] == "within" and r["realizations"] == 2 for r in rows)
    resumed = runs.record_existing(tmp_path / "r")
    assert resumed.config == cfg
    s2 = Search(resumed.config, resumed.dataset, listeners=[resumed.recorder.listener],
                checkpointer=resumed.recorder.checkpointer, resume=resumed.resume)
    summary = s2.run()
    resumed.recorder.close()
    assert summary.status == "finished" and summary.held_out["check"].startswith("split halves")
    assert summary.held_out["train_r"] == pytest.approx(summary.best_corr)
    status = json.loads((tmp_path / "r" / runs.STATUS).read_text())["summary"]
    assert status["edges"] == "within" and status["held_out"]["test_r"] == pytest.approx(summary.held_out["test_r"])
    last = runs.read_log(tmp_path / "r" / runs.LOG)[-1]
    assert last["held_out"]["test_r"] == pytest.approx(summary.held_out["test_r"])
    assert len(candidate_rows(runs.read_log(tmp_path / "r" / runs.LOG))) == 4  # the held-out row is not a candidate
    # exports show the edges and the train/test scores
    doc = json.loads(runs.export(tmp_path / "r", "json").read_text())
    assert doc["edges"] == "within" and doc["held_out"]["test_r"] == pytest.approx(summary.held_out["test_r"])
    head = runs.export(tmp_path / "r", "csv").read_text().splitlines()[0].split(",")
    assert "edges" in head
    with np.load(runs.export(tmp_path / "r", "npz")) as z:
        assert str(z["edges"]) == "within" and float(z["held_out_test_r"]) == pytest.approx(summary.held_out["test_r"])


def test_cli_json_summary_with_test_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.fit import main

    a, b = _scans_dataset(seed=0), _scans_dataset(seed=5)
    for name, ds in (("a.npz", a), ("b.npz", b)):
        np.savez(tmp_path / name, Cmat=a.cmat, Dmat=a.dmat, BOLDs=np.stack(ds.scans), TR=0.72,
                 labels=np.array(a.labels))
    monkeypatch.setenv("WCFIT_CPU_DEVICES", "1")
    monkeypatch.chdir(tmp_path)
    rc = main(["fit", "--no-record", "--json", "--data", "a.npz", "--test", "b.npz", "--observe", "rE", "--objective",
               "fc", "--duration", "300", "--transient", "0", "--budget", "2", "--batch", "2", "--edges", "within"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["edges"] == "within" and d["realizations"] == 1
    held = d["held_out"]
    assert held["check"] == "test data b" and held["train_r"] == pytest.approx(d["fc_corr"])
    i, j = np.triu_indices(8, 1)
    keep = (i < 4) == (j < 4)
    base = np.corrcoef(a.cmat[i[keep], j[keep]], b.target_fc[i[keep], j[keep]])[0, 1]
    assert held["test_baseline"] == pytest.approx(base, abs=1e-12)


def test_study_columns_follow_the_scoring(tmp_path: Path) -> None:
    from engine.study.scoring import VERDICT_COLUMNS, scoring_columns

    run = tmp_path / "s"
    run.mkdir()
    (run / "status.json").write_text(json.dumps({"summary": {"structural_baseline": 0.34, "edges": "within",
                                                             "held_out": {"train_r": 0.4, "test_r": 0.3}}}))
    cols = scoring_columns(run, FitConfig(edges="within", split="odd-even"), {"fc_corr": 0.4})
    assert cols["fc_corr"] == 0.4 and cols["structural_baseline"] == 0.34 and cols["test_fc_corr"] == 0.3
    # with today's defaults: only the verdict columns, empty for a run whose summary has no verdict
    assert scoring_columns(run, FitConfig(), {"fc_corr": 0.4}) == dict.fromkeys(VERDICT_COLUMNS)


def test_result_lines_only_for_scoring_options() -> None:
    from engine.events import Summary
    from tui.scoring_text import result_lines

    base = dict(status="finished", reason="", names=("k",), best_params={"k": 1.0}, best_loss=0.6,
                recommendation=None, recommendation_loss=None, evaluations=2, nan_candidates=0, wall_s=1.0, device="")
    assert result_lines(Summary(**base)) == []
    lines = result_lines(Summary(**base, edges="within", realizations=4,
                                 held_out={"check": "split odd-even", "train_r": 0.4, "test_r": 0.25,
                                           "test_baseline": 0.3}))
    assert "edges within" in lines[0] and "4 noise realisations" in lines[0]
    assert "train / test r 0.400 / 0.250" in lines[1]


def test_setup_form_reads_the_scoring_fields() -> None:
    import asyncio

    from textual.app import App

    from tui.widgets.setup_form import SetupForm

    class Host(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield SetupForm("schaefer100")

    async def run() -> None:
        app = Host()
        async with app.run_test(size=(120, 60)) as pilot:
            form = app.query_one(SetupForm)
            await wait_for(pilot, lambda: form.dataset is not None)
            assert app.query_one("#fcd_window_s").value == "21.6" and app.query_one("#fcd_step_s").value == "3.6"
            app.query_one("#edges").value = "within"
            app.query_one("#realizations").value = "3"
            app.query_one("#held_out").value = "test data"
            await wait_for(pilot, lambda: "name the test data" in form.problem)
            assert form.config is None
            app.query_one("#test_data").value = "other.npz"
            await wait_for(pilot, lambda: form.config is not None)
            assert (form.config.edges, form.config.realizations, form.config.split, form.config.test_data) == \
                ("within", 3, "", "other.npz")

    asyncio.run(run())
