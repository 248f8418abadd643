"""The joint bars: how many of a joint fit's candidates met the FCD and level bars at once, and the best r among them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.config import FitConfig
from engine.model.tradeoff import KS_BAR, LEVEL_BAR, Scored, scored, tradeoff, tradeoff_text
from engine.summary_text import verdict_lines
from tests.support import scans_dataset, stopped_run


def _p(e: int, r: float, ks: float, level: float | None = 0.05) -> Scored:
    return Scored(evaluation=e, fc_corr=r, fcd_ks=ks, fc_level=level)


def test_the_counts_and_the_best_r_meeting_both_bars() -> None:
    pts = [_p(0, 0.60, 0.90), _p(1, 0.45, 0.15), _p(2, 0.50, 0.19, 0.12), _p(3, 0.40, 0.05), None, _p(5, 0.45, 0.20)]
    t = tradeoff(pts)
    assert t is not None and t.candidates == 5 and (t.ks_bar, t.level_bar) == (KS_BAR, LEVEL_BAR)
    # #2 misses the level bar, #0 the KS bar; #1 and #5 tie on r: the earlier one is named; a KS of exactly 0.20 meets it
    assert t.meeting == 3 and t.best_meeting is not None and t.best_meeting.evaluation == 1
    assert t.best_any.evaluation == 0 and t.lowest_ks.evaluation == 3
    text = tradeoff_text(t.to_dict())
    assert text is not None and text.startswith("3 of 5 candidates met FCD KS ≤ 0.20 and mean FC within 0.10")
    assert "(search scores, one seed each): best r among them 0.450 (#1); best r of any 0.600, KS 0.90" in text


def test_without_a_level_term_only_the_ks_bar_is_judged_and_none_meeting_is_said() -> None:
    t = tradeoff([_p(0, 0.3, 0.5, None), _p(1, 0.2, 0.1, None)])
    assert t is not None and t.level_bar is None and t.meeting == 1 and t.best_meeting.evaluation == 1  # type: ignore[union-attr]
    assert "mean FC" not in tradeoff_text(t.to_dict())  # type: ignore[operator]
    none = tradeoff([_p(0, 0.7, 0.5), _p(1, 0.2, 0.3, 0.5)])
    assert none is not None and none.meeting == 0 and none.best_meeting is None
    assert tradeoff_text(none.to_dict()).startswith(  # type: ignore[union-attr]
        "none of 2 candidates met FCD KS ≤ 0.20 and mean FC within 0.10 of the data's (search scores, one seed each); "
        "lowest KS 0.30 (r 0.200)")


def test_a_fit_without_an_fcd_term_or_a_finite_score_has_no_tradeoff() -> None:
    assert scored(0, 0.5, {"fc": 0.5}) is None  # FC only
    assert scored(0, None, {"fcd_ks": 0.1}) is None  # no r (a diverged candidate)
    assert scored(0, float("nan"), {"fcd_ks": 0.1}) is None
    assert tradeoff([None, scored(1, 0.5, {"fc": 0.5})]) is None
    assert tradeoff_text(None) is None


def _rows_meeting(rows: list[dict[str, Any]]) -> tuple[int, int, float | None]:
    """An independent recount from the run's logged candidates (plain Python): scored, meeting, best r meeting."""
    ok = [r for r in rows if not r.get("flag") and r.get("fc_corr") is not None]
    meet = [r for r in ok if r["terms"]["fcd_ks"] <= 0.2 and r["terms"]["fc_level"] <= 0.1]
    return len(ok), len(meet), max((r["fc_corr"] for r in meet), default=None)


def test_a_joint_fit_reports_the_bars_over_every_candidate_resumed_ones_too(tmp_path: Path) -> None:
    from engine import runs
    from engine.model.objective import Objective
    from engine.runs.layout import candidate_rows
    from engine.search import Search

    base = dict(observe="bold", objective="fc+fcd_ks+fc_level", duration_ms=120_000.0, transient_ms=10_000.0,
                fcd_window_s=14.4, fcd_step_s=3.6)
    model = scans_dataset(n=8, n_scans=2, t=300)
    # scans made by the model itself (k 1.5, a noise seed the fit does not use): candidates near it can meet the bars
    made = Objective(model, FitConfig(bounds={"k": (0.5, 3.0)}, batch=2, budget=2, common_noise=False, seed=99,
                                      **base)).samples(np.array([[1.5], [1.5]]))
    ds = dataclasses.replace(model, scans=tuple(np.asarray(y, np.float64).T for y in made),
                             n_timepoints=int(made.shape[1]),
                             target_fc=np.mean([np.corrcoef(y.T) for y in made], axis=0))
    cfg = FitConfig(bounds={"k": (0.5, 4.0)}, batch=4, budget=8, fresh_seeds=0, optimizer="RandomSearch", **base)
    first = stopped_run(cfg, ds, tmp_path, "j")
    assert first.status == "stopped" and first.tradeoff is not None and first.tradeoff["candidates"] == 4
    resumed = runs.record_existing(tmp_path / "j")
    summary = Search(resumed.config, resumed.dataset, listeners=[resumed.recorder.listener],
                     checkpointer=resumed.recorder.checkpointer, resume=resumed.resume).run()
    resumed.recorder.close()
    assert summary.status == "finished" and summary.tradeoff is not None
    rows = candidate_rows(runs.read_log(tmp_path / "j" / runs.LOG))
    n, meeting, best = _rows_meeting(rows)
    t = summary.tradeoff
    assert n == 8 and (t["candidates"], t["meeting"]) == (n, meeting)  # the first session's four counted again
    if best is None:
        assert t["best_meeting"] is None
    else:
        assert t["best_meeting"]["fc_corr"] == pytest.approx(best, abs=1e-6)
    assert t["best_any"]["fc_corr"] == pytest.approx(max(r["fc_corr"] for r in rows), abs=1e-6)
    # the run's status file keeps it, and every front end's verdict rows show it
    stored = json.loads((tmp_path / "j" / runs.STATUS).read_text())["summary"]["tradeoff"]
    assert stored == t
    labels = dict(verdict_lines(runs.layout.summary_from_dict(json.loads(
        (tmp_path / "j" / runs.STATUS).read_text())["summary"])))
    assert labels["joint bars"] == tradeoff_text(t)


def test_a_study_table_row_carries_the_joint_bars() -> None:
    from engine.study.scoring import VERDICT_COLUMNS, verdict_columns

    t = tradeoff([_p(0, 0.6, 0.9), _p(1, 0.45, 0.15), _p(2, 0.3, 0.1)])
    cols = verdict_columns({"tradeoff": t.to_dict()})  # type: ignore[union-attr]
    assert (cols["joint_candidates"], cols["joint_meeting"], cols["joint_best_r"]) == (3, 2, 0.45)
    assert {"joint_candidates", "joint_meeting", "joint_best_r"} <= set(VERDICT_COLUMNS)
    none = verdict_columns({"tradeoff": tradeoff([_p(0, 0.6, 0.9)]).to_dict()})  # type: ignore[union-attr]
    assert none["joint_meeting"] == 0 and none["joint_best_r"] is None
