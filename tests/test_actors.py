"""A cluster fit's actors: the search emits them after each batch, the run directory records them, ``attach``
replays them, and the device panel lists them (a lost actor marked). No Ray here: a stand-in objective with
``actor_rows``; tests/test_cluster.py checks the same event from a real two-actor Ray fit."""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
from rich.console import Console

from engine import runs
from engine.config import FitConfig
from engine.data.dataset import load_dataset
from engine.events import ActorRow, ActorsUpdated, BatchEvaluated
from engine.search import Search
from tests.support import FakeObjective, aio, tiny_npz, wait_for


class TwoActors(FakeObjective):
    """The fake objective split over two actors by a fixed 2:1 ratio; actor 1 is lost after the second batch."""

    def __init__(self, batch: int) -> None:
        super().__init__(batch)
        self.shares = [0, 0]
        self.calls = 0

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> Any:
        self.calls += 1
        n = len(values)
        self.shares = [n, 0] if self.calls > 2 else [n - n // 3, n // 3]
        return super().__call__(values, first_lane)

    def actor_rows(self) -> list[ActorRow]:
        lost = self.calls > 2
        return [ActorRow(index=i, host=f"node-{i}", ip=f"10.0.0.{i}", pid=100 + i, device="2× cpu", platform="cpu",
                         memory_in_use=2**30, memory_total=16 * 2**30, lanes=4, share=self.shares[i],
                         candidates_per_s=None if not self.calls else 10.0 * (i + 1), batches=self.calls,
                         state="dead" if (lost and i == 1) else ("ready" if self.calls else "starting"),
                         note="RayActorError" if (lost and i == 1) else "") for i in range(2)]


def _actor_fit(tmp_path) -> tuple[list[Any], Any, FitConfig]:
    config = FitConfig(data=str(tiny_npz(tmp_path)), duration_ms=2000, batch=6, budget=18)
    dataset = load_dataset(config.data)
    rec = runs.record(config, dataset, out=str(tmp_path), name="actors")
    events: list[Any] = []
    with rec:
        Search(config, dataset, listeners=[rec.listener, events.append], objective=TwoActors(6),
               checkpointer=rec.checkpointer).run()
    return events, rec.path, config


def test_the_search_emits_actor_rows_after_each_batch_and_the_run_replays_them(tmp_path):
    events, run, config = _actor_fit(tmp_path)
    actors = [e for e in events if isinstance(e, ActorsUpdated)]
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    assert actors[0].batch_index is None and [r.state for r in actors[0].rows] == ["starting", "starting"]
    assert [a.batch_index for a in actors[1:]] == [b.batch_index for b in batches] == [0, 1, 2]
    for a, b in zip(actors[1:], batches):  # each event follows its batch; its shares add up to the batch
        assert events.index(a) > events.index(b) and sum(r.share for r in a.rows) == len(b.losses)
    assert actors[-1].simulated_seconds == config.simulated_seconds > 0
    assert [r.state for r in actors[-1].rows] == ["ready", "dead"]
    from engine.runs.follow import follow

    replayed = [e for e in follow(run, threading.Event()) if isinstance(e, ActorsUpdated)]
    assert len(replayed) == 1  # a finished run: its actors as they were after the last batch
    assert replayed[0].rows == actors[-1].rows and replayed[0].batch_index == 2
    assert replayed[0].simulated_seconds == config.simulated_seconds


def _text(widget) -> str:
    out = io.StringIO()
    Console(file=out, width=150, color_system=None).print(widget.content)
    return out.getvalue()


@aio
async def test_the_device_panel_lists_live_actors_and_marks_a_lost_one(tmp_path):
    from tui.app import WcfitApp
    from tui.widgets.device_panel import DevicePanel

    rows = TwoActors(6)
    rows.calls, rows.shares = 1, [4, 2]
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.screen.query_one(DevicePanel)
        app.screen.pump(ActorsUpdated(rows=tuple(rows.actor_rows()), batch_index=0, simulated_seconds=2.0))
        await wait_for(pilot, lambda: len(panel.actors) == 2)
        text = _text(panel)
        assert "Ray actors: 2 of 2 alive" in text
        lines = text.splitlines()
        blocks = {ln.split()[1]: (ln, lines[i + 1]) for i, ln in enumerate(lines) if ln.startswith((" #0", " #1"))}
        assert "share 4 (67%) · 10.0 cand/s · 20.0 sim s/s" in blocks["node-0"][1]
        assert "share 2 (33%) · 20.0 cand/s · 40.0 sim s/s" in blocks["node-1"][1]
        assert "1.0 GiB/16.0 GiB" in blocks["node-0"][0] and "ready" in blocks["node-1"][0]
        rows.calls, rows.shares = 3, [6, 0]
        app.screen.pump(ActorsUpdated(rows=tuple(rows.actor_rows()), batch_index=2, simulated_seconds=2.0))
        await wait_for(pilot, lambda: panel.actors[1].state == "dead")
        text = _text(panel)
        assert "Ray actors: 1 of 2 alive" in text and "LOST (RayActorError)" in text


@aio
async def test_attach_shows_the_actors_a_run_recorded(tmp_path):
    from tui.app import WcfitApp
    from tui.widgets.device_panel import DevicePanel

    _, run, _ = _actor_fit(tmp_path)
    app = WcfitApp(attach=str(run), probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.screen.query_one(DevicePanel)
        await wait_for(pilot, lambda: app.screen.state == "finished" and panel.actors)
        assert [r.host for r in panel.actors] == ["node-0", "node-1"]
        assert "LOST" in _text(panel) and "share 6 (100%)" in _text(panel)
