"""Resuming from the app: F5 on the Runs screen continues a stopped run in place (its history first, then the rest
of its budget, with the real engine), and says in one line why a finished run or a read-only viewer cannot."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import runs
from engine.config import FitConfig
from engine.events import BatchEvaluated, Cancelled, NewBest, Started
from engine.search import Search
from tests.support import aio, wait_for
from tests.support import make_small_dataset
from tui.app import WcfitApp
from tui.screens.main import MainScreen
from tui.screens.runs import RunsScreen
from tui.widgets.candidates import CandidatesTable
from tui.widgets.loss_plot import LossPlot
from tui.widgets.run_log import RunLog
from tui.widgets.runs_table import RunsTable

CONFIG = FitConfig(duration_ms=60.0, batch=2, budget=8, seed=5, optimizer="DE",
                   bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={})


def _real_fit(root, name, stop_after=None):
    """A recorded fit with the real JAX objective on a small generated dataset, stopped after ``stop_after``."""
    dataset = make_small_dataset(6, seed=3)
    rec = runs.record(CONFIG, dataset, out=str(root), name=name)
    search: Search

    def stop(ev) -> None:
        if stop_after is not None and isinstance(ev, BatchEvaluated) and ev.evaluations >= stop_after:
            search.cancel()

    with rec:
        search = Search(CONFIG, dataset, listeners=[rec.listener, stop], checkpointer=rec.checkpointer)
        search.run()
    return rec.path


def _rows(run):
    return [(r["evaluation"], r["batch"], r["params"], r["loss"]) for r in runs.read_log(run / runs.LOG)]


def _status(run):
    return json.loads((run / runs.STATUS).read_text())["status"]


def _notices(app):
    return [n.message for n in app._notifications]  # noqa: SLF001 - what the user was told


@pytest.fixture(scope="module")
def stopped_and_whole(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    part = _real_fit(root / "listed", "part", stop_after=4)
    whole = _real_fit(root / "reference", "whole")
    return part, whole


def test_replay_gives_what_is_on_disk_without_an_ending(stopped_and_whole, tmp_path):
    part, _ = stopped_and_whole
    events = list(runs.replay(part))
    assert isinstance(events[0], Started) and not any(isinstance(e, Cancelled) for e in events)
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    assert [e.first_evaluation for e in batches] == [0, 2] and batches[-1].evaluations == 4
    logged = [r[3] for r in _rows(part)]
    assert np.array_equal(np.concatenate([e.losses for e in batches]), logged)
    assert [e for e in events if isinstance(e, NewBest)][-1].loss == min(logged)


@pytest.mark.slow
@aio
async def test_f5_on_the_runs_screen_resumes_a_stopped_run_as_if_it_never_stopped(stopped_and_whole, tmp_path):
    import shutil

    part0, whole = stopped_and_whole
    part = tmp_path / "runs" / "part"
    shutil.copytree(part0, part)  # the module's stopped run stays stopped for the other tests
    assert _status(part) == "stopped" and len(_rows(part)) == 4
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        base = app.screen
        app.push_screen(RunsScreen(str(part.parent)))
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen)
                       and app.screen.query_one(RunsTable).row_count == 1)
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen is base and base.state == "finished", timeout=240)
        # the history first, then the rest: every evaluation once, in the table, the plot and the summary
        assert base.query_one(CandidatesTable).row_count == 8 and base.query_one(LossPlot).count == 8
        assert base.summary.evaluations == 8 and base.run_path == str(part)
        await pilot.press("f9")  # the Log tab (a RichLog draws its lines once it has a size)
        log = base.query_one("#runlog", RunLog)
        await wait_for(pilot, lambda: "resuming at evaluation 4 of 8" in " ".join(s.text for s in log.lines), 10)
        text = " ".join(" ".join(s.text.split()) for s in log.lines)
        assert text.count("transient 0:") == 1  # warned before the stop; the resumed search's repeat is not shown
    # on disk: the same candidates and losses, row for row, as a run that never stopped (noise keyed by evaluation)
    assert _rows(part) == _rows(whole)
    assert _status(part) == "finished"
    assert base.summary.best_loss == pytest.approx(min(r[3] for r in _rows(whole)))


@aio
async def test_f5_refuses_a_finished_run_and_a_read_only_viewer_in_one_line(stopped_and_whole):
    part, whole = stopped_and_whole
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(RunsScreen(str(whole.parent)))
        await wait_for(pilot, lambda: app.screen.query_one(RunsTable).row_count == 1)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert any("finished (budget spent): nothing to resume" in m for m in _notices(app))
    viewer = WcfitApp(attach=str(whole), probe_devices=False)  # as `wcfit-tui attach` or `serve … attach` starts
    async with viewer.run_test(size=(120, 36)) as pilot:
        assert isinstance(viewer.screen, MainScreen) and viewer.screen.attach
        viewer.push_screen(RunsScreen(str(part.parent)))
        await wait_for(pilot, lambda: viewer.screen.query_one(RunsTable).row_count == 1)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(viewer.screen, RunsScreen)
        assert any("read-only viewer" in m and "\n" not in m for m in _notices(viewer))
    assert _status(part) == "stopped" and len(_rows(part)) == 4  # nothing touched


@aio
async def test_a_run_that_cannot_be_resumed_fails_in_one_line_and_keeps_its_files(tmp_path):
    run = tmp_path / "broken"
    run.mkdir()  # a directory that is not a run
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.query_one("#form").dataset is not None)
        screen.resume_run(str(run))
        await wait_for(pilot, lambda: screen.state == "failed")
        assert "cannot resume" in screen.summary.reason and "\n" not in screen.summary.reason
    assert list(run.iterdir()) == []
