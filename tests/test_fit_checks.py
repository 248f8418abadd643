"""engine.fit_checks alone: held-out data and targets, the nulls, the held-out check and its failures (no search)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import FitConfig
from engine.data.compare import matrix_corr
from engine.data.dataset import load_dataset
from engine.events import Verifying
from engine.fit_checks import BestSoFar, FitChecks

DATA = load_dataset(None)


def _config(**kw: object) -> FitConfig:
    base = dict(observe="rE", objective="fc", bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05}, duration_ms=2000.0,
                transient_ms=0.0, batch=2, budget=2, fresh_seeds=0)
    base.update(kw)
    return FitConfig(**base)  # type: ignore[arg-type]


def test_a_split_gives_separate_train_and_test_targets_built_once() -> None:
    checks = FitChecks(_config(split="odd-even"), DATA)
    assert checks.held_out_asked
    checks.load_held_out()
    train, test = checks.targets(None)
    assert checks.targets(None)[0] is train  # built once
    assert test is not None and not np.allclose(train.fc, test.fc)  # odd and even scans differ


def test_the_held_out_check_scores_the_best_fc_on_the_test_target() -> None:
    checks = FitChecks(_config(split="odd-even"), DATA)
    checks.load_held_out()
    train, test = checks.targets(None)
    best = BestSoFar(values=np.array([1.0]), fc=np.asarray(train.fc), terms={"fc": 0.0}, corr=1.0)
    note = checks.held_out_check(best, None)
    assert checks.held_out is not None
    # the best FC here is the training FC itself: its test r is the train–test agreement of the data
    assert checks.held_out.test_r == pytest.approx(matrix_corr(np.asarray(train.fc), np.asarray(test.fc)), abs=1e-6)
    assert note is None or isinstance(note, str)
    assert checks.summary_fields()["held_out"]["test_r"] == pytest.approx(checks.held_out.test_r)


def test_a_failed_held_out_check_is_one_line_and_the_fit_stands() -> None:
    checks = FitChecks(_config(test_data="/nonexistent/day2.npz"), DATA)  # its data vanished before the end
    best = BestSoFar(values=np.array([1.0]), fc=np.asarray(DATA.target_fc), terms=None, corr=None)
    note = checks.held_out_check(best, None)
    assert note is not None and note.startswith("held-out check failed:") and "\n" not in note
    assert checks.held_out is None


def test_the_verdict_without_fresh_seeds_emits_no_verifying_and_keeps_the_nulls() -> None:
    events: list[object] = []
    checks = FitChecks(_config(), DATA, emit=events.append)
    checks.load_held_out()
    checks.nulls(None)
    train, _ = checks.targets(None)
    best = BestSoFar(values=np.array([2.0]), fc=np.asarray(train.fc), terms={"fc": 0.1}, corr=0.9)
    warnings = checks.judge(best, None, None, 0.9)
    assert not any(isinstance(e, Verifying) for e in events)  # fresh_seeds 0: no new simulations
    assert isinstance(warnings, list) and checks.judgement is not None
    fields = checks.summary_fields()
    assert fields["fresh"] is None and fields["held_out"] is None
