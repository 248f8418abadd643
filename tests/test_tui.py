"""Pilot tests of the real app, synthetic-event rendering tests and SVG snapshots of the main states."""

from __future__ import annotations

import json

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widgets import Button, Input

from engine.data.dataset import load_dataset
from tui.app import WcfitApp
from tui.demo import synthetic_run
from tui.main import main
from tui.widgets.candidates import CandidatesTable
from tui.widgets.fc_heatmap import ASCII_RAMP, HALF, FCHeatmaps
from tui.widgets.loss_plot import LossPlot, thin

from tests.support import aio, feed, tiny_npz, utc_clock, wait_for  # noqa: F401 - utc_clock: autouse fixture

TARGET = load_dataset(None).target_fc


def problem_of(app) -> str:
    return str(app.screen.query_one("#start-reason").render())


# -- entry point ---------------------------------------------------------------------------

def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("fit", "info", "bench", "runs", "resume", "export", "attach"):
        assert cmd in out


def test_attach_needs_a_run_dir(capsys):
    assert main(["attach"]) == 2


# -- the form ------------------------------------------------------------------------------

@aio
async def test_form_rejects_inverted_bounds_and_missing_data(tmp_path):
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        form = app.screen.query_one("#form")
        await wait_for(pilot, lambda: form.dataset is not None)
        start = app.screen.query_one("#start", Button)
        await wait_for(pilot, lambda: not start.disabled)  # the screen handles Validated a moment later
        assert not start.disabled and "ready" in problem_of(app)
        # inverted bounds: Start disabled with ConfigError's reason
        app.screen.query_one("#lo-k", Input).value = "3"
        app.screen.query_one("#hi-k", Input).value = "1"
        await wait_for(pilot, lambda: start.disabled)
        assert start.disabled and "inverted" in problem_of(app)
        await pilot.press("f5")  # refused
        assert app.screen.state == "idle"
        app.screen.query_one("#hi-k", Input).value = "4"
        await wait_for(pilot, lambda: not start.disabled)
        assert not start.disabled
        # not a number
        app.screen.query_one("#batch", Input).value = "two"
        await wait_for(pilot, lambda: start.disabled)
        assert start.disabled and "batch" in problem_of(app)
        app.screen.query_one("#batch", Input).value = "2"
        # a missing data file: its reason shows inline and blocks Start
        missing = tmp_path / "nope.msgpack"
        app.screen.query_one("#data", Input).value = str(missing)
        await wait_for(pilot, lambda: form.data_problem and "checking" not in form.data_problem)
        assert start.disabled
        assert "nope.msgpack" in str(app.screen.query_one("#data-status").render())
        app.screen.query_one("#data", Input).value = "bundled"
        await wait_for(pilot, lambda: form.dataset is not None)
        await wait_for(pilot, lambda: not start.disabled)  # the screen handles Validated a moment later


@aio
async def test_fixing_a_parameter_and_fitting_another():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen.query_one("#form")
        await wait_for(pilot, lambda: form.dataset is not None)
        app.screen.query_one("#preset").value = "tutorial"  # fits k alone (the default bold preset fits ext_E too)
        await wait_for(pilot, lambda: form.config is not None and form.config.preset == "tutorial")
        toggle = app.screen.query_one("#fit-sigma")
        assert "fixed" in str(toggle.label) and not app.screen.query_one("#val-sigma", Input).disabled
        assert "fit" in str(app.screen.query_one("#fit-k").label)
        app.screen.query_one("#fit-sigma").value = True
        app.screen.query_one("#val-k", Input).value = "2.5"
        app.screen.query_one("#fit-k").value = False
        await wait_for(pilot, lambda: form.config is not None and form.config.names == ("sigma",))
        # the state reads as a word (no colour needed) and the inputs follow it
        assert str(toggle.label).strip() == "fit" and str(app.screen.query_one("#fit-k").label) == "fixed"
        assert app.screen.query_one("#val-k", Input).disabled is False
        assert app.screen.query_one("#lo-k", Input).disabled and not app.screen.query_one("#lo-sigma", Input).disabled
        assert form.config is not None
        assert form.config.names == ("sigma",) and form.config.fixed["k"] == 2.5


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (160, 48)])
@aio
async def test_setup_form_units_are_not_cut(size):
    """Every unit of the parameter table (e.g. "mm/ms") fits inside the form at the usual sizes."""
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        form = app.screen.query_one("#form")
        inner = form.scrollable_content_region
        units = [w for w in app.screen.query(".punit") if str(w.render()).strip()]
        assert any(str(w.render()).strip() == "mm/ms" for w in units)
        for w in units:
            text = str(w.render()).strip()
            assert w.region.width >= len(text), (text, w.region)
            assert w.region.x + len(text) <= inner.right, (size, text, w.region, inner)


@aio
async def test_file_picker_offers_new_formats_and_folders(tmp_path):
    from tui.screens.file_picker import DatasetTree, FilePicker

    (tmp_path / "subjects").mkdir()
    for name in ("a.mat", "b.zip", "c.npz", "notes.txt"):
        (tmp_path / name).write_text("x")
    picked: list = []

    class PickerApp(App):
        def on_mount(self) -> None:
            self.push_screen(FilePicker(tmp_path), picked.append)

    app = PickerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        tree = app.screen.query_one(DatasetTree)
        await wait_for(pilot, lambda: len(tree.root.children) == 4)
        assert sorted(n.data.path.name for n in tree.root.children) == ["a.mat", "b.zip", "c.npz", "subjects"]
        tree.move_cursor(next(n for n in tree.root.children if n.data.path.name == "a.mat"))
        await pilot.press("d")  # a file is not a folder: nothing happens
        assert picked == []
        tree.move_cursor(next(n for n in tree.root.children if n.data.path.name == "subjects"))
        await pilot.press("d")
        await wait_for(pilot, lambda: picked)
    assert picked == [str(tmp_path / "subjects")]


# -- a real (tiny) fit ---------------------------------------------------------------------

@pytest.mark.slow
@aio
async def test_real_fit_updates_panels_and_stops(tmp_path, monkeypatch):
    import functools
    import threading

    from engine.model import objective as objective_mod

    monkeypatch.chdir(tmp_path)  # the run directory goes to ./wcfit-runs
    # the third batch's device call waits until the test has pressed F6: the stop lands inside a batch on any machine
    inside, release = threading.Event(), threading.Event()
    calls: list[int] = []
    real_call = objective_mod.Objective.__call__

    @functools.wraps(real_call)
    def gated(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            inside.set()
            assert release.wait(120)
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(objective_mod.Objective, "__call__", gated)
    app = WcfitApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        form = screen.query_one("#form")
        await wait_for(pilot, lambda: form.dataset is not None)
        screen.query_one("#preset").value = "tutorial"  # raw rE: a 50 ms candidate is valid (bold discards 20 s)
        await wait_for(pilot, lambda: form.config is not None and form.config.preset == "tutorial")
        for name, value in (("duration_ms", "50"), ("budget", "200"), ("batch", "2")):
            screen.query_one(f"#{name}", Input).value = value
        await wait_for(pilot, lambda: form.config is not None and form.config.batch == 2
                       and not screen.query_one("#start", Button).disabled)
        await pilot.press("f5")
        assert screen.state in ("preparing", "compiling", "running")
        table = screen.query_one(CandidatesTable)
        maps = screen.query(FCHeatmaps)  # the Fit tab's and the FC tab's (narrow terminals)
        # NewBest follows its BatchEvaluated, possibly in the pump's next flush
        await wait_for(pilot, lambda: inside.is_set() and table.row_count == 4
                       and all(m.model is not None for m in maps))
        assert screen.query_one(LossPlot).count == 4
        await pilot.press("f6")
        await wait_for(pilot, lambda: screen.state == "stopping")  # waits for the segment in flight
        release.set()
        await wait_for(pilot, lambda: screen.state == "stopped")
        # the batch in flight stops at its segment boundary unscored (README: F6 within one segment); none after it
        assert table.row_count == 4 and len(calls) == 3
        assert screen.query_one(FCHeatmaps).model is not None  # results stay
        assert "best loss" in str(screen.query_one("#status").render())
        assert screen.run_path and (tmp_path / "wcfit-runs").is_dir()  # engine.runs recorded the run


# -- synthetic events ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
@aio
async def test_summary_shows_best_recommendation_and_bound_warning(size):
    from tui.widgets.dashboard import RunPanel, SummaryPanel, TopCandidates

    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=size) as pilot:
        feed(app, synthetic_run(TARGET, batches=10, batch=4))
        app.screen.query_one("#tabs").active = "fit"
        await pilot.pause()
        s = app.screen
        wide = size[0] >= 120
        panel = s.query_one(RunPanel if wide else SummaryPanel)
        assert panel.region.height > 0  # visible in this layout
        text = " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))
        for part in ("FINISHED", "best k=", "FC r", "recommends", "WARNING", "widen the bounds"):
            assert part in text, part
        if wide:
            assert s.query_one(TopCandidates).region.height > 5 and s.query_one("#logtail").region.height > 5
            assert s.query_one(TopCandidates).rows()[0][1] == pytest.approx(s.summary.best_loss)
        else:
            assert s.query_one(TopCandidates).region.height == 0


def test_loss_plot_leaves_diverged_candidates_off_the_y_range():
    plot = LossPlot()
    plot.reset(("k",))
    plot.add_batch(0, np.array([[1.0], [2.0], [3.0]]), np.array([0.5, 2.0, 0.45]), ("", "nan", ""))
    assert plot.count == 3 and plot.diverged == 1


def test_dashboard_heatmaps_are_square_and_fit():
    from tui.screens.main import MainScreen

    for w, h in ((120, 36), (160, 48), (220, 60)):
        top, heat = MainScreen.dashboard_sizes(w, h)
        rows = top - 4
        assert heat <= 0.62 * w and top <= 0.6 * (h - 5) + 1
        assert (heat - 2 - 4) // 3 == 2 * rows  # each image: 2·rows columns × rows (half blocks) = square


@aio
async def test_synthetic_run_fills_every_panel_and_reset_clears():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        feed(app, synthetic_run(TARGET, batches=6, batch=4))
        await pilot.pause()
        s = app.screen
        assert s.state == "finished"
        assert s.query_one(CandidatesTable).row_count == 24
        assert s.query_one(LossPlot).count == 24
        status = str(s.query_one("#status").render())
        assert "finished" in status and "best loss" in status and "k=" in status
        assert s.query_one(FCHeatmaps).corr is not None
        await pilot.press("f8")
        assert s.query_one(LossPlot).view == "k"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert s.state == "idle" and s.query_one(CandidatesTable).row_count == 0


class HeatmapApp(App):
    def __init__(self, ascii: bool | None) -> None:
        super().__init__()
        self.ascii = ascii

    def compose(self) -> ComposeResult:
        yield FCHeatmaps(ascii=self.ascii)


@pytest.mark.parametrize("ascii", [False, True])
@aio
async def test_heatmap_colour_and_ascii_ramp(ascii):
    app = HeatmapApp(ascii)
    async with app.run_test(size=(90, 20)) as pilot:
        hm = app.query_one(FCHeatmaps)
        hm.set_target(TARGET)
        hm.set_model(TARGET * 0.5, 0.42)
        await pilot.pause()
        lines = [hm.render_line(y) for y in range(hm.size.height)]
        text = "".join(s.text for s in lines)
        assert "target FC" in text and "0.420" in text
        if ascii:
            assert HALF not in text
            assert set(ASCII_RAMP[1:]) & set(text)
        else:
            cells = [seg for s in lines for seg in s if seg.text == HALF]
            assert cells and all(seg.style.color and seg.style.bgcolor for seg in cells)
        assert all(s.cell_length == hm.size.width for s in lines)
        assert hm.render_line(3) is lines[3]  # cached


@aio
async def test_heatmap_follows_no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = HeatmapApp(None)
    async with app.run_test(size=(60, 12)):
        assert app.query_one(FCHeatmaps).use_ascii


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield CandidatesTable()


@aio
async def test_table_sorts_best_first_and_by_header():
    app = TableApp()
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(CandidatesTable)
        t.reset(("k",))
        t.add_batch(0, ("k",), np.array([[1.0], [2.0], [3.0]]), np.array([0.5, 0.3, 0.9]), ("", "", ""))
        t.add_batch(3, ("k",), np.array([[0.7], [10.0]]), np.array([0.1, 0.35]), ("nan", ""))
        assert t.sorted_keys() == ["3", "1", "4", "0", "2"]  # best loss first
        await pilot.click(CandidatesTable, offset=(12, 0))  # the "k" header
        await pilot.pause()
        assert t.sort_column == "k"
        assert t.sorted_keys()[0] == "3" and t.sorted_keys()[-1] == "4"  # k 0.7 … 10 (numeric, not text)


def test_thin_keeps_at_most_1000_points():
    idx = thin(25_000)
    assert len(idx) <= 1000 and idx[0] == 0 and idx[-1] == 24_999


# -- SVG snapshots (deterministic: synthetic events, fixed sizes) ---------------------------

def _finished(tab: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        feed(app, synthetic_run(TARGET, batches=10, batch=4))
        app.screen.query_one("#tabs").active = tab
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
    return run_before


async def _idle(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.query_one("#form").dataset is not None)
    await pilot.pause()


def test_snapshot_idle(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=_idle)


def test_snapshot_finished_fit_wide(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=_finished("fit"))


def test_snapshot_finished_fit_narrow(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(80, 24), run_before=_finished("fit"))


def test_snapshot_candidates_narrow(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(80, 24), run_before=_finished("candidates"))


def test_snapshot_fc_tab_narrow(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(80, 24), run_before=_finished("fc"))


@aio
async def test_narrow_fc_tab_shows_whole_heatmaps():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(80, 24)) as pilot:
        feed(app, synthetic_run(TARGET, batches=4, batch=4))
        await pilot.press("f10")
        await pilot.pause()
        s = app.screen
        assert s.query_one("#tabs").active == "fc"
        hm = s.query_one("#fcmaps", FCHeatmaps)
        assert hm.model is not None and hm.region.height >= 12
        assert hm.region.bottom <= s.query_one("#status").region.y  # above the status bar: nothing below the fold
        text = "".join(hm.render_line(y).text for y in range(hm.size.height))
        assert "best model FC" in text and "FC correlation r = 0." in text
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:  # wide: the heatmaps sit in the Fit tab, no FC tab
        await pilot.press("f10")
        await pilot.pause()
        assert app.screen.query_one("#tabs").active == "fit"


# -- attach mode (live and replay) and F7 export, on run directories written by engine.runs -----

@aio
async def test_attach_replays_a_finished_run_read_only_and_f7_exports_it(tmp_path):
    from engine import runs
    from tests.support import fake_fit
    from tui.widgets.setup_form import SetupForm

    run = fake_fit(tiny_npz(tmp_path), tmp_path, "done")
    rows = runs.read_log(run / runs.LOG)
    app = WcfitApp(attach=str(run), probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        table = screen.query_one(CandidatesTable)
        await wait_for(pilot, lambda: screen.state == "finished")
        assert table.row_count == len(rows) == 8
        assert screen.summary.evaluations == 8 and screen.summary.best_loss == min(r["loss"] for r in rows)
        assert screen.query_one(FCHeatmaps).model is not None
        assert screen.query_one(SetupForm).disabled
        await pilot.press("f5")  # read-only: nothing starts
        await pilot.pause()
        assert screen.state == "finished" and table.row_count == 8
        assert not (run / "export").exists()
        await pilot.press("f7")
        files = [run / "export" / n for n in ("candidates.csv", "summary.json", "fcs.npz", "best_fc.csv")]
        await wait_for(pilot, lambda: all(f.is_file() for f in files))
    assert len(files[0].read_text().splitlines()) == 9
    n = np.load(files[2])["model"].shape[0]
    assert len(files[3].read_text().splitlines()) == n + 1  # a header row, then one row per region
    assert json.loads(files[1].read_text())["best"]["loss"] == min(r["loss"] for r in rows)


@aio
async def test_f7_without_a_run_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 40)) as pilot:
        said = []
        monkeypatch.setattr(app.screen, "notify", lambda msg, **kw: said.append((msg, kw.get("severity"))))
        await pilot.press("f7")
        await pilot.pause()
    assert said == [("no run directory to export from (start a fit first)", "warning")]
    assert not (tmp_path / "wcfit-runs").exists()


@aio
async def test_attach_follows_a_live_run_batch_by_batch(tmp_path):
    import threading

    from engine import runs
    from engine.config import FitConfig
    from engine.search import Search
    from tests.support import FakeObjective

    config = FitConfig(data=str(tiny_npz(tmp_path)), duration_ms=50, batch=2, budget=6)
    dataset = load_dataset(config.data)
    rec = runs.record(config, dataset, out=str(tmp_path), name="live")
    gates = [threading.Event() for _ in range(3)]

    class Gated(FakeObjective):
        calls = 0

        def __call__(self, values, first_lane=0):
            Gated.calls += 1
            assert gates[Gated.calls - 1].wait(60)
            return super().__call__(values, first_lane)

    def fit():
        with rec:
            Search(config, dataset, listeners=[rec.listener], objective=Gated(2), checkpointer=rec.checkpointer).run()

    thread = threading.Thread(target=fit, daemon=True)
    gates[0].set()
    thread.start()
    app = WcfitApp(attach=str(rec.path), probe_devices=False)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            table = screen.query_one(CandidatesTable)
            await wait_for(pilot, lambda: table.row_count == 2)
            assert screen.state == "attached"  # live: still following
            gates[1].set()
            await wait_for(pilot, lambda: table.row_count == 4)
            assert screen.state == "attached"
            gates[2].set()
            await wait_for(pilot, lambda: screen.state == "finished")
            assert table.row_count == 6 and screen.summary.evaluations == 6
    finally:
        for g in gates:
            g.set()
        thread.join(30)


# -- a fit's real event stream: the snapshot with a stand-in engine, the real engine's numbers checked as text ------
# The snapshot freezes what the app draws of a fit (the search's real events: Grid's candidates, new bests, warnings,
# summary) but not the engine's numbers: a real simulation's float32 losses differ by an ulp between AVX2 and AVX-512
# CPUs, more on a GPU, and a frozen 1.1702 would fail there with nothing wrong. The real engine's run is checked by
# ``test_a_real_engine_run_shows_its_own_numbers`` against the numbers it gave, whatever the machine.

class StandInEngine:
    """The engine's place in a fit without a simulation: FC r and FC a fixed function of k (loss = 1 − r), scored
    against the real target (so the structure-alone baseline is the real one)."""

    description = "1× cpu (test)"
    compiled = True

    def __init__(self, dataset, config) -> None:
        from engine.model.target import build_target

        self.dataset, self.batch = dataset, config.batch
        self.target = build_target(config, dataset, None)

    def __call__(self, values, first_lane: int = 0):
        from engine.model.objective import BatchResult

        k = np.asarray(values, np.float64)[:, 0]
        corr = -0.40 + 0.08 * k  # best at the upper bound (k = 3): the bound and structure-alone warnings show
        losses = 1.0 - corr
        best = int(np.argmin(losses))
        fc = np.clip(0.5 * self.dataset.target_fc[::-1] + 0.1 * k[best], -1.0, 1.0)
        np.fill_diagonal(fc, 1.0)
        return BatchResult(losses=losses, flags=("",) * len(k), best_index=best, best_fc=fc, wall_s=0.5,
                           compile_s=0.0, terms={"fc": losses}, corr=corr)


def _fit_events(*, stand_in: bool):
    """The events of a 6-candidate Grid fit on a 6-node dataset, machine-dependent fields (clock, throughput) fixed."""
    import dataclasses

    from tests.support import make_small_dataset
    from engine.config import FitConfig
    from engine.events import BatchEvaluated, Ended, Started
    from engine.search import Search
    from tui.demo import T0

    ds = make_small_dataset(6, seed=5)
    config = FitConfig(batch=2, budget=6, duration_ms=100.0, optimizer="Grid", seed=0)
    events: list = []
    objective = StandInEngine(ds, config) if stand_in else None
    Search(config, ds, listeners=[events.append], objective=objective).run()
    out = []
    for i, e in enumerate(events):  # the machine-dependent fields: wall clock, throughput, device name
        kw: dict = {"time": T0 + i} if hasattr(e, "time") else {}
        if isinstance(e, Started):
            kw["device"] = "1× cpu (test)"
        if isinstance(e, BatchEvaluated):
            kw.update(wall_s=0.5, compile_s=0.0, candidates_per_s=4.0, sim_s_per_s=0.4)
        if isinstance(e, Ended):
            kw["summary"] = dataclasses.replace(e.summary, wall_s=3.0, device="1× cpu (test)")
        out.append(dataclasses.replace(e, **kw))
    return ds, out


def _show_fit(events):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        feed(app, events)
        app.screen.query_one("#tabs").active = "fit"
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
    return run_before


def test_snapshot_fit_with_a_stand_in_engine(snap_compare):
    _, events = _fit_events(stand_in=True)
    assert [type(e).__name__ for e in events][-1] == "Finished"
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=_show_fit(events))


@pytest.mark.slow
@aio
async def test_a_real_engine_run_shows_its_own_numbers():
    """The real engine's events in the app: the status bar, the run log and the table show the numbers this machine's
    simulation gave (not numbers frozen on another machine)."""
    from engine.events import Finished

    _, events = _fit_events(stand_in=False)
    end = events[-1]
    assert isinstance(end, Finished) and end.summary.evaluations == 6
    s = end.summary
    losses = np.concatenate([e.losses for e in events if type(e).__name__ == "BatchEvaluated"])
    assert s.best_loss == pytest.approx(losses.min()) and np.isfinite(losses).all() and (losses <= 2).all()
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        feed(app, events)
        await pilot.pause()
        status = str(app.screen.query_one("#status").render())
        k = s.best_params["k"]
        assert f"best loss {s.best_loss:.4f} · r {s.best_corr:.3f} · k={k:.4g}" in status, status
        assert "6/6 evals" in status and app.screen.state == "finished"
        assert app.screen.query_one(CandidatesTable).row_count == 6
        assert app.screen.query_one(FCHeatmaps).corr == pytest.approx(s.best_corr, abs=1e-6)
