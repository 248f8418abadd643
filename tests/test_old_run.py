"""A run directory made before the layout moved (commit f00e785, ``tests/data/run-made-before-the-move``) still
resumes from its own checkpoint and is still followed and opened read-only by the app after the move.

It was made by the old modules (``engine.runs``, ``engine.search``) with the configuration of
``tests/test_tui_resume.py``'s ``_real_fit`` (DE, batch 2, budget 8, 60 ms, seed 5, six generated regions) and
stopped after its second batch: four candidates logged, a checkpoint after batch 2, status "stopped".
"""

from __future__ import annotations

import json
import pickletools
import shutil
import threading
from pathlib import Path

import pytest

from tests.support import aio, wait_for
from engine import runs
from engine.events import BatchEvaluated, Ended, Started
from engine.proposers import NevergradProposer

OLD = Path(__file__).parent / "data" / "run-made-before-the-move"


@pytest.fixture
def old_run(tmp_path):
    run = tmp_path / "made-before-the-move"
    shutil.copytree(OLD, run)
    return run


def _pickled_globals(blob: bytes) -> set[tuple[str, str]]:
    """The (module, name) pairs a pickle imports."""
    strings: list[str] = []
    out = set()
    for op, arg, _ in pickletools.genops(blob):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "STACK_GLOBAL":
            out.add((strings[-2], strings[-1]))
        elif op.name == "GLOBAL":
            out.add(tuple(arg.split(" ", 1)))
    return out


def test_the_old_checkpoint_names_only_modules_that_still_exist():
    blob = next(OLD.glob("checkpoint-*.pkl")).read_bytes()
    engine_globals = {g for g in _pickled_globals(blob) if g[0].startswith("engine")}
    assert engine_globals == {("engine.search", "NevergradProposer")}  # engine/search.py did not move


def test_a_run_made_before_the_move_resumes_from_its_own_checkpoint(old_run):
    config, dataset, resume, recorder = runs.record_existing(old_run)
    with recorder:
        assert recorder.notes == []  # no "checkpoint not loaded, warm-started" note: the pickle was read
        assert isinstance(resume.proposer, NevergradProposer)
        assert (resume.evaluations, resume.batches, config.budget) == (4, 2, 8)
        from engine.search import Search

        summary = Search(config, dataset, listeners=[recorder.listener], checkpointer=recorder.checkpointer,
                         resume=resume).run()
    assert summary.status == "finished" and summary.evaluations == 8
    rows = runs.read_log(old_run / runs.LOG)
    assert [r["evaluation"] for r in rows] == list(range(8))
    assert json.loads((old_run / runs.STATUS).read_text())["status"] == "finished"


def test_the_cli_resumes_a_run_made_before_the_move(old_run, capsys, monkeypatch):
    from tui.cli.fit import main

    monkeypatch.setenv("WCFIT_CPU_DEVICES", "1")  # main() must not change XLA_FLAGS for the tests after this one
    assert main(["resume", str(old_run), "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "finished" and out["evaluations"] == 8 and out["run_dir"] == str(old_run)


def test_a_run_made_before_the_move_is_followed_to_its_end(old_run):
    events = list(runs.follow(old_run, threading.Event()))
    assert isinstance(events[0], Started) and events[0].config.budget == 8
    assert [e.evaluations for e in events if isinstance(e, BatchEvaluated)] == [2, 4]
    assert isinstance(events[-1], Ended) and events[-1].summary.status == "stopped"


@aio
async def test_the_app_attaches_to_a_run_made_before_the_move(old_run):
    from tui.app import WcfitApp
    from tui.widgets.candidates import CandidatesTable

    app = WcfitApp(attach=str(old_run), probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.state == "stopped")
        assert screen.query_one(CandidatesTable).row_count == 4
        assert screen.summary.evaluations == 4
