"""The setup form's new fields, progress inside batches, the FCD/BOLD tab and the Explore view (pilot + snapshots)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy.stats import ks_2samp
from textual.widgets import Button, Input, Select

from engine import presets
from tui.cli.fit import build_parser, config_from_args
from engine.data.dataset import load_dataset
from engine.events import SegmentSimulated
from engine.model.fcd import empirical_fcd_values
from engine.model.simulate import Simulation
from tests.support import make_small_dataset
from tests.support import GUARD_S, aio, feed, utc_clock, wait_for  # noqa: F401 - utc_clock: autouse fixture
from tui.app import WcfitApp
from tui.demo import bold_signal, synthetic_bold_run, synthetic_run
from tui.widgets.bold_panel import BoldPanel
from tui.widgets.explore import SHORT_S, ExploreView, short_config
from tui.widgets.fcd_panel import NO_SAMPLES, FCDHeatmaps, FCDHistogram, FCDPanel

DATA = load_dataset(None)
TARGET = DATA.target_fc


def reference_fcd(x: np.ndarray, window: int, step: int) -> np.ndarray:
    """FCD by loops: Pearson correlation between the upper triangles of windowed FCs (np.corrcoef)."""
    starts = range(0, x.shape[0] - window + 1, step)
    iu = np.triu_indices(x.shape[1], k=1)
    vecs = [np.corrcoef(x[s:s + window].T)[iu] for s in starts]
    return np.corrcoef(np.array(vecs))


async def ready(pilot):
    form = pilot.app.screen.query_one("#form")
    await wait_for(pilot, lambda: form.dataset is not None)
    await pilot.pause()
    return form


# -- the setup form ------------------------------------------------------------------------------

FORM_CASES = [
    ([], {}),
    (["--preset", "tutorial"], {"preset": "tutorial"}),
    (["--objective", "fc+0.5*fcd_ks", "--tr", "0.8", "--bandpass", "0.01:0.1", "--fcd-window", "40",
      "--fcd-step", "5", "--initial", "random", "--budget", "8", "--batch", "4"],
     {"objective": "fc+0.5*fcd_ks", "tr_s": "0.8", "bandpass_hz": "0.01:0.1", "fcd_window_s": "40",
      "fcd_step_s": "5", "initial": "random", "budget": "8", "batch": "4"}),
    (["--preset", "tutorial", "--observe", "bold", "--duration", "40000", "--transient", "10000"],
     {"preset": "tutorial", "observe": "bold", "duration_ms": "40000", "transient_ms": "10000"}),
]


@pytest.mark.parametrize("argv,fields", FORM_CASES)
@aio
async def test_form_builds_the_config_the_cli_would(argv, fields):
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await ready(pilot)
        s = app.screen
        if "preset" in fields:
            s.query_one("#preset", Select).value = fields["preset"]
            await wait_for(pilot, lambda: form.config is not None and form.config.preset == fields["preset"])
        for name, value in fields.items():
            if name == "preset":
                continue
            widget = s.query_one(f"#{name}")
            if isinstance(widget, Select):
                widget.value = value
            else:
                widget.value = value
        expected = config_from_args(build_parser().parse_args(["fit", *argv]))
        await wait_for(pilot, lambda: form.config == expected)
        assert form.problem is None


@aio
async def test_choosing_a_preset_fills_the_form_and_a_bad_objective_is_one_line():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await ready(pilot)
        s = app.screen
        assert form.config.preset == presets.DEFAULT and form.config.observe == "bold"
        s.query_one("#preset", Select).value = "tutorial"
        tut = presets.get("tutorial").settings
        await wait_for(pilot, lambda: form.config is not None and form.config.preset == "tutorial")
        assert s.query_one("#duration_ms", Input).value == f"{tut['duration_ms']:g}"
        assert str(s.query_one("#observe", Select).value) == "rE" and form.config.names == ("k",)
        s.query_one("#objective", Input).value = "fc+banana"
        await wait_for(pilot, lambda: form.problem is not None)
        assert "banana" in form.problem and "\n" not in form.problem
        # the screen handles the form's Validated message a moment later: wait for its line, then check it
        await wait_for(pilot, lambda: "banana" in str(s.query_one("#start-reason").render()))
        assert s.query_one("#start", Button).disabled
        s.query_one("#objective", Input).value = "fc"
        s.query_one("#bandpass_hz", Input).value = "0.01-0.1"
        await wait_for(pilot, lambda: form.problem is not None and "band-pass" in form.problem)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (160, 48)])
@aio
async def test_new_form_rows_fit_and_scroll(size):
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=size) as pilot:
        form = await ready(pilot)
        inner = form.scrollable_content_region
        for wid in ("#preset", "#observe", "#initial", "#tr_s", "#objective", "#bandpass_hz", "#fcd_step_s"):
            w = app.screen.query_one(wid)
            form.scroll_to_widget(w, animate=False)
            await pilot.pause()
            assert w.region.width > 3 and w.region.right <= inner.right, (wid, w.region, inner)


# -- progress inside a batch ---------------------------------------------------------------------

@aio
async def test_segment_simulated_moves_the_progress():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        events = synthetic_bold_run(TARGET, finish=False)
        feed(app, events[:2])  # Started, Compiling
        status = app.screen.query_one("#status")
        for ms in (40_000.0, 120_000.0):
            feed(app, [SegmentSimulated(batch_index=2, simulated_ms=ms, duration_ms=200_000.0, evaluations_done=8,
                                        batch_size=4)])
            await pilot.pause()
            text = str(status.render())
            assert f"batch 3: {ms / 1000:.0f} / 200 s simulated" in text, text
        assert app.screen.state == "running"
        assert "120 / 200 s simulated" in str(app.screen.query_one("#runpanel").render())


# -- FCD and BOLD panels -------------------------------------------------------------------------

@aio
async def test_fcd_and_bold_panels_from_a_known_model_signal():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        events = synthetic_bold_run(TARGET)
        feed(app, events)
        await pilot.press("ctrl+b")
        s = app.screen
        assert s.query_one("#tabs").active == "signals"
        await wait_for(pilot, lambda: s._signals_data is not None)
        best = [e for e in events if type(e).__name__ == "NewBest"][-1]
        cfg = events[0].config
        signal = bold_signal(TARGET.shape[0], 250, seed=best.evaluation)
        assert np.array_equal(best.model_signal, signal)
        window, step = round(cfg.fcd_window_s / 0.72), round(cfg.fcd_step_s / 0.72)
        heat = s.query_one("#fcd").query_one(FCDHeatmaps)
        np.testing.assert_allclose(heat.model, reference_fcd(signal, window, step), atol=1e-10)
        np.testing.assert_allclose(heat.data, reference_fcd(np.asarray(DATA.scans[0]).T, window, step), atol=1e-10)
        hist = s.query_one("#fcd").query_one(FCDHistogram)
        pooled = empirical_fcd_values(DATA.scans, window, step)
        np.testing.assert_allclose(np.sort(hist.data), pooled, atol=1e-10)
        iu = np.triu_indices(heat.model.shape[0], k=1)
        assert hist.ks == pytest.approx(ks_2samp(heat.model[iu], pooled).statistic)
        assert f"KS = {hist.ks:.3f}" in " ".join(hist.render_line(y).text for y in range(hist.size.height))
        await pilot.pause()
        assert "model FCD (best)" in heat.render_line(0).text and "data FCD" in heat.render_line(0).text
        bold = s.query_one("#bold", BoldPanel)
        z = bold.model
        np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-9)
        np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-9)
        np.testing.assert_allclose(z[:, 5], (signal[:, 5] - signal[:, 5].mean()) / signal[:, 5].std(), atol=1e-9)
        first = bold.regions
        bold.focus()
        await pilot.press("right_square_bracket")
        assert bold.regions == [(r + 1) % 80 for r in first]
        text = " ".join(bold.render_line(y).text for y in range(bold.size.height))
        assert f"region {first[0] + 1}" in text


@aio
async def test_panels_say_so_when_the_run_observes_re():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        feed(app, synthetic_run(TARGET, batches=3, batch=4))
        app.screen.query_one("#tabs").active = "signals"
        await pilot.pause()
        heat = app.screen.query_one("#fcd").query_one(FCDHeatmaps)
        assert heat.render_line(0).text.strip() == NO_SAMPLES[: heat.size.width].strip()
        assert app.screen.query_one("#bold", BoldPanel).note == NO_SAMPLES


@aio
async def test_summary_shows_terms_baseline_and_warning():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        feed(app, synthetic_bold_run(TARGET))
        app.screen.query_one("#tabs").active = "fit"
        await pilot.pause()
        panel = app.screen.query_one("#runpanel")
        text = " ".join(panel.render_line(y).text.strip() for y in range(panel.size.height))
        s = app.screen.summary
        assert f"fc {s.best_terms['fc']:.4f}" in text and f"fcd_ks {s.best_terms['fcd_ks']:.4f}" in text
        assert "structure alone r 0.350" in text and "no better than the structure alone" in text
        assert f"fcd_ks {s.best_terms['fcd_ks']:.3f}" in str(app.screen.query_one("#status").render())


# -- Explore -------------------------------------------------------------------------------------

def fake_simulation(config, dataset, values, wall_s: float = 1.25) -> Simulation:
    """A deterministic Simulation whose FC depends on k (no JAX)."""
    n = dataset.n_nodes
    k = float(values.get("k", 1.0))
    fc = np.clip(dataset.target_fc * min(1.0, k / 60.0), -1, 1)
    sig = bold_signal(n, 120, seed=int(k * 10) % 1000)
    from engine.model.fcd import host_fcd_matrix as fcd_matrix

    return Simulation(params=dict(values), rE=np.zeros((10, n)), bold=sig, t_bold=np.arange(120) * 720.0, fc=fc,
                      fcd=fcd_matrix(sig, 42, 4), fcd_window=42, fcd_step=4, target_fc=dataset.target_fc,
                      loss=1 - k / 100, terms={"fc": 1 - k / 100}, fc_corr=k / 100, flag="",
                      structural_baseline=0.343, wall_s=wall_s)


@pytest.fixture
def fake_simulate(monkeypatch):
    """engine.model.simulate.simulate replaced: records calls; the first call waits until ``gate`` is set (by the
    test, or at teardown: a failed test leaves no thread waiting)."""
    import engine.model.simulate

    calls: list[dict] = []
    gate = threading.Event()

    def simulate(config, dataset, values, *, progress=None):
        calls.append(dict(values))
        if len(calls) == 1:
            assert gate.wait(GUARD_S), "the test never released the first simulation"
        if progress is not None:
            progress(config.duration_ms)
        return fake_simulation(config, dataset, values)

    monkeypatch.setattr(engine.model.simulate, "simulate", simulate)
    yield calls, gate
    gate.set()


@aio
async def test_explore_drops_stale_results_and_fits_from_here(fake_simulate, monkeypatch):
    calls, gate = fake_simulate
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        form = await ready(pilot)
        s = app.screen
        await wait_for(pilot, lambda: form.config is not None)
        await pilot.press("ctrl+n")
        view = s.query_one(ExploreView)
        assert s.query_one("#tabs").active == "explore"
        await wait_for(pilot, lambda: len(calls) == 1)
        assert calls[0] == dict(presets.get("bold").point)  # the form's preset point
        await pilot.press("right", "right", "shift+left")  # three changes while the first runs
        assert view.running and view.pending and len(calls) == 1
        lo, hi = presets.get("bold").settings["bounds"]["k"]
        k = presets.get("bold").point["k"] + 2 * ((hi - lo) / 20) - (hi - lo) / 200  # two steps up, one fine step down
        assert view.point["k"] == pytest.approx(k)
        gate.set()
        await wait_for(pilot, lambda: not view.running and view.last is not None)
        assert len(calls) == 2, calls  # the first, then only the latest point: nothing queued
        assert calls[1]["k"] == pytest.approx(k)
        assert view.dropped == 1 and view.shown_generation == view.generation
        assert view.last.params["k"] == pytest.approx(k)
        assert s.query_one("#explore-maps").corr == pytest.approx(k / 100)
        facts = str(s.query_one("#explore-facts").render())
        assert "1.25 s wall" in facts and "fc 0.5" in facts and "structure alone r 0.343" in facts
        # a typed value, clamped into the bounds
        await pilot.press("enter")
        box = s.query_one("#explore-value", Input)
        assert box.has_focus
        box.value = str(hi + 15)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(calls) == 3 and not view.running)
        assert calls[2]["k"] == hi  # clamped to the upper bound
        # the shorter duration, and what it costs
        await pilot.press("d")
        await wait_for(pilot, lambda: len(calls) == 4 and not view.running)
        assert view.sim_config().duration_ms == view.config.transient_ms + SHORT_S * 1000
        assert "noisier" in str(s.query_one("#explore-facts").render())
        # fit from here: the start point under the same bounds
        started: list = []
        monkeypatch.setattr(type(s), "run_fit", lambda self, config, dataset, cluster=None: started.append(config))
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert started and started[0].start == view.point and started[0].bounds == form.config.bounds
        assert started[0].duration_ms == form.config.duration_ms  # the fit uses the full duration


@aio
async def test_explore_from_the_best_and_a_candidate_row(fake_simulate):
    calls, gate = fake_simulate
    gate.set()
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        events = synthetic_bold_run(TARGET)
        feed(app, events)
        s = app.screen
        s.query_one("#tabs").active = "explore"
        await pilot.pause()
        s.query_one(ExploreView).focus()
        s.explore_from("best")
        await wait_for(pilot, lambda: len(calls) == 1)
        assert calls[0] == pytest.approx(dict(s.summary.best_params))
        table = s.query_one("#table")
        table.move_cursor(row=3)
        key = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        batch = next(e for e in events if type(e).__name__ == "BatchEvaluated" and
                     e.first_evaluation <= key < e.first_evaluation + len(e.losses))
        s.explore_from("row")
        await wait_for(pilot, lambda: len(calls) == 2)
        want = dict(zip(batch.names, batch.values[key - batch.first_evaluation]))
        assert calls[1] == pytest.approx(want)


def test_short_config_keeps_the_transient():
    cfg = presets.get("bold").config()
    short = short_config(cfg)
    assert short.duration_ms == cfg.transient_ms + SHORT_S * 1000 and short.transient_ms == cfg.transient_ms
    tut = presets.get("tutorial").config()
    assert short_config(tut) is tut


@pytest.mark.slow
@aio
async def test_explore_simulates_a_real_candidate_on_a_small_dataset():
    ds = make_small_dataset(12)
    cfg = presets.get("tutorial").config(duration_ms=300.0)
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        view = app.screen.query_one(ExploreView)
        app.screen.query_one("#tabs").active = "explore"
        view.explore(cfg, ds, {"k": 2.0})
        await wait_for(pilot, lambda: view.last is not None, timeout=240)
        sim = view.last
        assert sim.fc.shape == (12, 12) and np.isfinite(sim.fc_corr) and sim.params["k"] == pytest.approx(2.0)
        assert view.query_one(FCDPanel).query_one(FCDHeatmaps).note == NO_SAMPLES


# -- snapshots ------------------------------------------------------------------------------------

def _signals(tab: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        feed(app, synthetic_bold_run(TARGET))
        app.screen.query_one("#tabs").active = tab
        await wait_for(pilot, lambda: app.screen._signals_data is not None)
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
    return run_before


def test_snapshot_signals_wide(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=_signals("signals"))


def test_snapshot_signals_narrow(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(80, 24), run_before=_signals("signals"))


def test_snapshot_explore_wide(snap_compare, fake_simulate):
    calls, gate = fake_simulate
    gate.set()

    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#form").config is not None)
        await pilot.press("ctrl+n")
        view = app.screen.query_one(ExploreView)
        await wait_for(pilot, lambda: view.last is not None and view._empirical is not None and not view.running)
        view.device = "cpu"
        view._facts()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=run_before)
