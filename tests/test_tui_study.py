"""Attaching the app to a study: the subjects' table (refreshed while the study runs), enter opens a subject's
run, escape comes back; the rows come from ``engine.study.table`` (checked here against the run files)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from engine import runs
from engine.study import run as st
from engine.config import FitConfig
from engine.data.dataset import load_dataset
from engine.search import Search
from engine.study.table import attach_kind, study_rows
from tests.support import FakeObjective, aio, tiny_npz, wait_for


def _study(tmp_path):
    """A study of the 3 scans of a tiny dataset: subject 0 fitted (fake objective), subjects 1 and 2 not started."""
    config = FitConfig(data=str(tiny_npz(tmp_path)), duration_ms=50, batch=2, budget=4)
    source = load_dataset(config.data)
    subjects = st.split_subjects(source, "scan")
    path = tmp_path / "study"
    st.create_study(path, config, source, subjects, "scan")
    _fit(path, config, source, subjects[0])
    return path, config, source, subjects


def _fit(path, config, source, subject, objective=None):
    ds = st.subject_dataset(source, subject)
    rec = runs.record(config, ds, out=path, name=subject.name)
    with rec:
        Search(config, ds, listeners=[rec.listener], objective=objective or FakeObjective(2),
               checkpointer=rec.checkpointer).run()


def _corr(a, b):
    iu = np.triu_indices(a.shape[0], k=1)
    return float(np.corrcoef(a[iu], b[iu])[0, 1])


def test_study_rows_give_each_subject_its_status_best_and_own_baseline(tmp_path):
    path, config, source, subjects = _study(tmp_path)
    rows = study_rows(path)
    assert [(r.name, r.status, r.evaluations, r.budget) for r in rows] == \
        [("subject-000", "done", 4, 4), ("subject-001", "waiting", 0, 4), ("subject-002", "waiting", 0, 4)]
    logged = runs.read_log(path / "subject-000" / runs.LOG)
    assert rows[0].best_loss == min(r["loss"] for r in logged)
    assert rows[0].best_fc_corr == pytest.approx(1.0 - rows[0].best_loss)  # the fake objective logs no r: 1 − loss
    own_fc = np.corrcoef(source.scans[0])  # subject 0's own scan (regions are rows)
    assert rows[0].structural_baseline == pytest.approx(_corr(source.cmat, own_fc), abs=1e-12)
    assert rows[1].best_loss is rows[1].best_fc_corr is rows[1].structural_baseline is None
    assert rows[0].has_run and not rows[1].has_run


def test_attach_tells_a_run_from_a_study_and_refuses_anything_else(tmp_path, capsys):
    from engine.runs import RunError
    from tui.main import main

    path, *_ = _study(tmp_path)
    assert attach_kind(path) == ("study", path)
    assert attach_kind(path / "subject-000") == ("run", path / "subject-000")
    with pytest.raises(RunError, match="neither a run directory"):
        attach_kind(tmp_path)
    assert main(["attach", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"wcfit-tui: no run or study at {tmp_path / 'nothing'}"]
    assert main(["attach", str(tmp_path)]) == 2
    assert "is neither a run directory (wcfit-run.json) nor a study (study.json)" in capsys.readouterr().err


@aio
async def test_the_app_attached_to_a_study_lists_subjects_live_and_opens_one(tmp_path):
    from tui.app import WcfitApp
    from tui.screens.main import MainScreen
    from tui.screens.study import StudyScreen
    from tui.widgets.candidates import CandidatesTable
    from tui.widgets.subjects_table import SubjectsTable

    path, config, source, subjects = _study(tmp_path)
    gate = threading.Event()

    class Gated(FakeObjective):
        calls = 0

        def __call__(self, values, first_lane=0):
            Gated.calls += 1
            if Gated.calls > 1:
                assert gate.wait(60)
            return super().__call__(values, first_lane)

    thread = threading.Thread(target=_fit, args=(path, config, source, subjects[1], Gated(2)), daemon=True)
    thread.start()
    await_rows = lambda table, want: [r.status for r in table.subjects] == want  # noqa: E731
    app = WcfitApp(attach=str(path), probe_devices=False)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            assert isinstance(app.screen, StudyScreen)
            table = app.screen.query_one(SubjectsTable)
            await wait_for(pilot, lambda: await_rows(table, ["done", "running", "waiting"]))
            assert table.row_count == 3
            gate.set()  # subject 1 finishes: the table follows within a poll or two
            await wait_for(pilot, lambda: await_rows(table, ["done", "done", "waiting"]))
            assert [r.evaluations for r in table.subjects] == [4, 4, 0]
            await pilot.press("down", "down", "enter")  # a subject that has not started: nothing to open, it says so
            await wait_for(pilot, lambda: any("has not started yet" in str(n.message) for n in app._notifications))
            assert isinstance(app.screen, StudyScreen)
            await pilot.press("up", "up", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.state == "finished")
            assert app.screen.attach.endswith("subject-000")
            assert app.screen.query_one(CandidatesTable).row_count == 4
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, StudyScreen))
            assert app.screen.query_one(SubjectsTable).subjects[0].name == "subject-000"
    finally:
        gate.set()
        thread.join(30)


@aio
async def test_the_runs_screen_lists_a_study_and_enter_opens_its_subjects(tmp_path):
    from engine.study.table import list_studies
    from tests.support import fake_fit
    from tui.app import WcfitApp
    from tui.screens.runs import RunsScreen
    from tui.screens.study import StudyScreen
    from tui.widgets.runs_table import RunsTable
    from tui.widgets.subjects_table import SubjectsTable

    path, *_ = _study(tmp_path)
    fake_fit(tiny_npz(tmp_path), tmp_path, "plain")  # an ordinary run next to the study
    (info,) = list_studies(tmp_path)
    best = study_rows(path)[0].best_loss
    assert (info.name, info.status, info.evaluations, info.budget, info.best_loss) == ("study", "study", 4, 12, best)
    assert info.reason == "1 of 3 subjects done"
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        app.push_screen(RunsScreen(str(tmp_path)))
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen)
                       and app.screen.query_one(RunsTable).row_count == 2)
        table = app.screen.query_one(RunsTable)
        assert sorted(r.status for r in table.runs) == ["finished", "study"]
        table.move_cursor(row=[r.name for r in table.runs].index("study"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StudyScreen)
                       and app.screen.query_one(SubjectsTable).row_count == 3)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))


def test_runs_lists_a_study_beside_the_runs_and_json_says_which_is_which(tmp_path, capsys):
    from tui.cli.fit import main
    from tests.support import fake_fit

    path, *_ = _study(tmp_path)
    fake_fit(tiny_npz(tmp_path), tmp_path, "plain")
    assert main(["runs", str(tmp_path), "--json"]) == 0
    rows = {d["name"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    assert sorted(rows) == ["plain", "study"]
    assert rows["study"]["status"] == "study" and rows["study"]["evaluations"] == 4 and rows["study"]["budget"] == 12
    assert rows["study"]["best_loss"] == study_rows(path)[0].best_loss
    assert rows["plain"]["status"] == "finished"
    assert main(["runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 of 3 subjects done" in out and "wcfit-tui runs STUDY" in out


def _table_app():
    """An app showing one SubjectsTable, for the table's own tests."""
    from textual.app import App, ComposeResult

    from tui.widgets.subjects_table import SubjectsTable

    class TableHost(App):
        def compose(self) -> ComposeResult:
            yield SubjectsTable()

    return TableHost()


@aio
async def test_a_subject_no_better_than_its_structure_is_marked(tmp_path):
    from pathlib import Path

    from engine.study.table import SubjectRow
    from tui.widgets.subjects_table import SubjectsTable, no_better_than_structure

    def row(name, corr, base):
        return SubjectRow(name=name, path=Path(tmp_path / name), status="done", evaluations=4, budget=4,
                          best_loss=1.0 - (corr or 0.0), best_fc_corr=corr, structural_baseline=base)

    rows = [row("good", 0.50, 0.30), row("weak", 0.28, 0.31), row("tie", 0.30, 0.30), row("unknown", 0.4, None)]
    assert [no_better_than_structure(r) for r in rows] == [False, True, True, False]

    async with _table_app().run_test(size=(100, 12)) as pilot:
        table = pilot.app.query_one(SubjectsTable)
        table.set_rows(rows)
        await pilot.pause()
        cells = [str(table.get_cell(r.name, "corr")) for r in rows]
    assert cells == ["0.500", "≤ 0.280", "≤ 0.300", "0.400"]


@aio
async def test_a_subject_is_judged_against_its_structure_by_its_fresh_noise_r_where_it_has_one(tmp_path):
    """A search's best r is a best-of-N on one noise seed: where a subject has a fresh-noise verdict, its fresh r is
    what is compared with the structure alone, and that cell carries the mark (the best-of-N cell does not)."""
    from pathlib import Path

    from engine.study.table import SubjectRow
    from tui.widgets.subjects_table import SubjectsTable, no_better_than_structure

    def row(name, best, fresh, base=0.30):
        return SubjectRow(name=name, path=Path(tmp_path / name), status="done", evaluations=4, budget=4,
                          best_loss=1.0 - best, best_fc_corr=best, structural_baseline=base, fresh_fc_corr=fresh)

    rows = [row("lucky", 0.35, 0.28), row("holds", 0.29, 0.40), row("none", 0.29, None)]
    assert [no_better_than_structure(r) for r in rows] == [True, False, True]

    async with _table_app().run_test(size=(120, 12)) as pilot:
        table = pilot.app.query_one(SubjectsTable)
        table.set_rows(rows)
        await pilot.pause()
        best = [str(table.get_cell(r.name, "corr")) for r in rows]
        fresh = [str(table.get_cell(r.name, "fresh")) for r in rows]
    assert best == ["0.350", "0.290", "≤ 0.290"]
    assert fresh == ["≤ 0.280", "0.400", "—"]


@aio
async def test_the_judged_fresh_r_stands_beside_the_structure_r_at_80_columns_whatever_order_verdicts_arrive(tmp_path):
    """At 80 columns the fresh r a subject is judged by is on screen without scrolling, next to its structure's r; a
    held-out r that arrived first does not push it to the right (the columns are rebuilt in their order), and the
    selected subject stays selected while they are."""
    from pathlib import Path

    from engine.study.table import SubjectRow
    from tui.widgets.subjects_table import SubjectsTable

    def row(name, fresh=None, test=None):
        return SubjectRow(name=name, path=Path(tmp_path / name), status="done", evaluations=400, budget=400,
                          best_loss=0.81234, best_fc_corr=0.3, structural_baseline=0.25, fresh_fc_corr=fresh,
                          fresh_fcd_ks=None if fresh is None else 0.15, test_fc_corr=test)

    async with _table_app().run_test(size=(80, 12)) as pilot:
        table = pilot.app.query_one(SubjectsTable)
        table.set_rows([row("100206", test=0.2), row("100307", test=0.21)])
        table.move_cursor(row=1)
        await pilot.pause()
        table.set_rows([row("100206", fresh=0.22, test=0.2), row("100307", fresh=0.24, test=0.21)])
        await pilot.pause()
        keys = [k.value for k in table.columns]
        assert keys[:8] == ["subject", "status", "evals", "loss", "corr", "baseline", "fresh", "fresh_ks"]
        assert keys[8] == "test" and table.cursor_row == 1
        right_edge = sum(c.get_render_width(table) for c in list(table.columns.values())[:keys.index("fresh") + 1])
        assert right_edge <= table.size.width, (right_edge, table.size.width)
        assert str(table.get_cell("100307", "fresh")) == "≤ 0.240"  # judged, and no better than 0.25
