"""The fitting workbench: landscapes, objective terms, the structure-alone baseline and the Runs screen."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from rich.color import Color
from textual.app import App, ComposeResult

from engine.data.dataset import load_dataset
from engine.events import BatchEvaluated, Started
from engine.proposers import GridProposer
import tui.app
from tui.app import WcfitApp
from tui.baseline import structural_baseline
from tui.demo import T0, grid_loss, synthetic_grid_run, synthetic_run
from tui.widgets.candidates import CandidatesTable
from tui.widgets.landscape import BAD_MARK, BEST_MARK, LEVELS, Landscape, shade, shade_char
from tui.widgets.loss_plot import LossPlot

from tests.support import aio, feed, wait_for

DATA = load_dataset(None)
TARGET = DATA.target_fc


def grid_events(budget: int = 30, batch: int = 4, diverged: int | None = None):
    """BatchEvaluated events made here from a GridProposer's own points, with losses from a known function."""
    bounds = np.array([[0.5, 3.0], [0.0, 0.2]])
    proposer = GridProposer(bounds, budget=budget)
    out, done, b = [], 0, 0
    while proposer.position < len(proposer.points):
        vals = proposer.ask(batch)
        loss = 0.4 + (vals[:, 0] - 2.0) ** 2 / 10 + (vals[:, 1] - 0.1) ** 2
        flags = tuple("nan" if diverged == done + i else "" for i in range(len(vals)))
        out.append(BatchEvaluated(batch_index=b, first_evaluation=done, names=("k", "sigma"), values=vals,
                                  losses=np.where([bool(f) for f in flags], 2.0, loss), flags=flags, wall_s=1.0,
                                  compile_s=0.0, evaluations=done + len(vals), candidates_per_s=4.0, sim_s_per_s=1.0,
                                  best_loss=0.4, time=T0))
        done, b = done + len(vals), b + 1
    return proposer.points, out


class LandscapeApp(App):
    def __init__(self, ascii: bool | None = None) -> None:
        super().__init__()
        self.ascii = ascii

    def compose(self) -> ComposeResult:
        yield Landscape(ascii=self.ascii)


def _cell_colour(strip_segments, col: int) -> tuple[str, object, object]:
    """(char, fg, bg) of the cell at ``col`` of a rendered line."""
    x = 0
    for seg in strip_segments:
        n = len(seg.text)
        if x <= col < x + n:
            return seg.text[col - x], seg.style.color if seg.style else None, seg.style.bgcolor if seg.style else None
        x += n
    raise IndexError(col)


# -- landscapes -----------------------------------------------------------------------------

@pytest.mark.parametrize("ascii", [False, True])
@aio
async def test_grid_cells_land_at_their_parameter_values(ascii):
    from tui.landscape_cells import grid_axes
    from engine.config import FitConfig

    points, events = grid_events(budget=30, diverged=7)  # 6 × 6 axis values, 30 points: the last 6 stay unscored
    cfg = FitConfig(bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={}, optimizer="Grid", budget=30)
    app = LandscapeApp(ascii)
    async with app.run_test(size=(100, 30)) as pilot:
        land = app.query_one(Landscape)
        land.reset(cfg.names, cfg.bounds, grid_axes(cfg))
        for e in events[:3]:  # part of the run: cells fill as batches arrive
            land.add_batch(e.first_evaluation, e.values, e.losses, e.flags)
        await pilot.pause()
        assert np.isfinite(land.grid()[2]).sum() == 12 - 1  # 12 evaluated, one diverged
        for e in events[3:]:
            land.add_batch(e.first_evaluation, e.values, e.losses, e.flags)
        # new data right after a drawing may wait a moment (the redraw duty cycle): wait for the full drawing
        await wait_for(pilot, lambda: "29/36 scored" in land.render_line(0).text)
        xs, ys, cells, bad = land.grid()
        assert land.mode == "grid"
        full = GridProposer(np.array([[0.5, 3.0], [0.0, 0.2]]), budget=36).points  # every grid point
        np.testing.assert_allclose(xs, np.unique(full[:, 0]))
        np.testing.assert_allclose(ys, np.unique(full[:, 1]))
        expected = 0.4 + (points[:, 0] - 2.0) ** 2 / 10 + (points[:, 1] - 0.1) ** 2
        ok = np.ones(len(points), bool)
        ok[7] = False
        lo, hi = expected[ok].min(), expected[ok].max()
        lines = [land.render_line(y) for y in range(land.size.height)]
        lay = land.cell_layout
        assert lay is not None and (lay.nx, lay.ny) == (6, 6)
        best = int(np.argmin(np.where(ok, expected, np.inf)))
        for i, (k, s) in enumerate(points):
            ix, iy = int(np.flatnonzero(np.isclose(xs, k))[0]), int(np.flatnonzero(np.isclose(ys, s))[0])
            col, row = lay.centre(ix, iy)
            char, fg, bg = _cell_colour(list(lines[row]), col)
            if not ok[i]:
                assert np.isnan(cells[ix, iy]) and bad[ix, iy] and char == BAD_MARK
                continue
            assert cells[ix, iy] == pytest.approx(expected[i])
            t = round((expected[i] - lo) / (hi - lo) * (LEVELS - 1)) / (LEVELS - 1)  # drawn in LEVELS shades
            if i == best:
                assert char == BEST_MARK
            elif ascii:
                assert char == shade_char(t)
            else:  # the cell's own colour, in the half block drawn at its centre
                assert Color.from_rgb(*shade(t)) in (fg, bg)
            # the axis labels name the cell's values: the row's y label and the column's x label
            assert lines[row].text[:lay.left].strip() in (f"{s:.3g}", "")
            assert f"{k:.3g}" in lines[land.x_label_row].text[col - 3:col + 5]
        unvisited = [(ix, iy) for ix in range(6) for iy in range(6)
                     if not any(np.isclose(points[:, 0], xs[ix]) & np.isclose(points[:, 1], ys[iy]))]
        assert len(unvisited) == 6
        for ix, iy in unvisited:  # blank
            col, row = lay.centre(ix, iy)
            assert np.isnan(cells[ix, iy]) and _cell_colour(list(lines[row]), col)[0] == " "
        assert f"best {lo:.4g} at k=" in lines[0].text


@aio
async def test_scatter_for_other_optimizers_and_pairs_of_three_parameters():
    rng = np.random.default_rng(3)
    bounds = {"k": (0.5, 3.0), "sigma": (0.0, 0.2), "signal_speed": (1.0, 20.0)}
    app = LandscapeApp(False)
    async with app.run_test(size=(90, 26)) as pilot:
        land = app.query_one(Landscape)
        land.reset(tuple(bounds), bounds, None)
        vals = np.column_stack([rng.uniform(*bounds[n], 40) for n in bounds])
        loss = 0.5 + (vals[:, 0] - 2) ** 2
        land.add_batch(0, vals, loss)
        await pilot.pause()
        assert land.mode == "scatter"
        for pair in ((0, 1), (0, 2), (1, 2)):
            assert land.pair == pair
            lines = [land.render_line(y) for y in range(land.size.height)]
            lay = land.cell_layout
            i = int(np.argmin(loss))
            (xlo, xhi), (ylo, yhi) = bounds[tuple(bounds)[pair[0]]], bounds[tuple(bounds)[pair[1]]]
            ix = min(lay.nx - 1, int((vals[i, pair[0]] - xlo) / (xhi - xlo) * lay.nx))
            iy = min(lay.ny - 1, int((vals[i, pair[1]] - ylo) / (yhi - ylo) * lay.ny))
            col, row = lay.centre(ix, iy)
            assert lines[row].text[col] == BEST_MARK  # the best point sits at its own values
            land.cycle_pair()
            await pilot.pause()
        assert land.pair == (0, 1)


@aio
async def test_one_parameter_grid_is_a_line_with_its_points():
    from engine.config import FitConfig
    from tui.landscape_cells import grid_axes

    cfg = FitConfig(bounds={"k": (0.5, 3.0)}, fixed={}, optimizer="Grid", budget=9)
    app = LandscapeApp(False)
    async with app.run_test(size=(80, 20)) as pilot:
        land = app.query_one(Landscape)
        land.reset(cfg.names, cfg.bounds, grid_axes(cfg))
        k = np.linspace(0.5, 3.0, 9)
        land.add_batch(0, k[:, None], 0.4 + (k - 1.75) ** 2)
        await pilot.pause()
        text = "\n".join(land.render_line(y).text for y in range(land.size.height))
        assert land.mode == "line" and "grid over k" in text and "best 0.4 at k=1.75" in text


# -- the app: terms, baseline, landscape tab ---------------------------------------------------

@aio
async def test_terms_fill_table_columns_and_ctrl_t_cycles_plot_and_landscape():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        events = synthetic_grid_run(TARGET, budget=30, terms=True, baseline=0.34)
        feed(app, events)
        await pilot.pause()
        s = app.screen
        table = s.query_one(CandidatesTable)
        assert table.terms == ("fc", "fcd_ks") and table.row_count == 30
        batches = [e for e in events if isinstance(e, BatchEvaluated)]
        e = batches[2]
        row = table.get_row(str(e.first_evaluation + 1))
        keys = [str(c.key.value) for c in table.ordered_columns]
        assert float(row[keys.index("term:fc")].plain) == pytest.approx(e.terms["fc"][1], rel=1e-4)
        assert float(row[keys.index("term:fcd_ks")].plain) == pytest.approx(e.terms["fcd_ks"][1], rel=1e-4)
        assert float(row[keys.index("loss")].plain) == pytest.approx(e.losses[1], rel=1e-4)
        from tui.widgets.dashboard import TopCandidates

        loss = np.concatenate([b.losses for b in batches])
        fc = np.concatenate([b.terms["fc"] for b in batches])
        top = s.query_one(TopCandidates)
        assert top.rows()[0][1] == pytest.approx(loss.min())
        assert top.corrs()[0] == pytest.approx(1 - fc[np.argmin(loss)])  # r is 1 − the fc term, not 1 − the loss
        plot, land = s.query_one(LossPlot), s.query_one(Landscape)
        assert plot.shown == land.shown == "loss"
        await pilot.press("ctrl+t")
        assert plot.shown == land.shown == "fc"
        fc_cells = land.grid()[2]
        k, sig = land.axes
        ref, _ = grid_loss(k[:, None], sig[None, :])
        visited = np.isfinite(fc_cells)
        np.testing.assert_allclose(fc_cells[visited], ref[visited])  # the landscape of the fc term itself
        await pilot.press("ctrl+t")
        assert plot.shown == "fcd_ks"
        await pilot.press("ctrl+t")
        assert plot.shown == "loss"
        await pilot.press("f11")
        assert s.query_one("#tabs").active == "landscape"


def test_structural_baseline_is_the_correlation_of_the_upper_triangles():
    iu = np.triu_indices(DATA.n_nodes, 1)
    ref = np.corrcoef(DATA.cmat[iu], TARGET[iu])[0, 1]
    assert structural_baseline(DATA.cmat, TARGET) == pytest.approx(ref, abs=1e-12)
    assert structural_baseline(np.ones((5, 5)), TARGET[:5, :5]) is None  # constant: undefined


@aio
async def test_loss_plot_draws_the_structure_alone_line_only_for_one_minus_r():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        s = app.screen
        plot = s.query_one(LossPlot)

        def plot_text() -> str:
            return "\n".join(plot.render_line(y).text for y in range(plot.size.height))

        # no baseline on the event: the app computes it from the data it fits (Cmat) and the target
        s.cmat = DATA.cmat
        feed(app, synthetic_run(TARGET, batches=4, batch=4))
        s.query_one("#tabs").active = "fit"
        await pilot.pause()
        assert plot.baseline == pytest.approx(structural_baseline(DATA.cmat, TARGET))
        assert "structure alone" in plot_text()
        # a run whose loss mixes terms: no line on the loss, a line on the fc term
        s.cmat = None
        await pilot.press("ctrl+r")
        s.query_one("#tabs").active = "fit"
        feed(app, synthetic_grid_run(TARGET, budget=16, terms=True, baseline=0.34))
        await pilot.pause()
        assert plot.baseline == 0.34
        assert "structure alone" not in plot_text()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert plot.shown == "fc" and "structure alone" in plot_text()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
@aio
async def test_landscape_tab_fills_live_in_the_app(size):
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=size) as pilot:
        events = synthetic_grid_run(TARGET, budget=30, finish=False)
        feed(app, events[:4])  # Started, Compiling, the first batch (and its NewBest)
        await pilot.press("ctrl+l")
        await pilot.pause()
        land = app.screen.query_one(Landscape)
        assert app.screen.query_one("#tabs").active == "landscape" and land.region.height > 10
        assert np.isfinite(land.grid()[2]).sum() == 4
        text0 = land.render_line(0).text
        feed(app, events[4:])
        await pilot.pause()
        assert np.isfinite(land.grid()[2]).sum() == 30
        # the drawing follows (new data may wait a moment after a recent drawing, to keep the UI responsive)
        await wait_for(pilot, lambda: "30/36 scored" in land.render_line(0).text)
        assert land.render_line(0).text != text0


# -- runs side by side ----------------------------------------------------------------------

def _record(root, name: str, events) -> None:
    from engine import runs

    started = next(e for e in events if isinstance(e, Started))
    rec = runs.record(started.config, DATA, out=root, name=name)
    for e in events:
        rec.listener(e)
    rec.close()


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    root = tmp_path / "runs"
    a = synthetic_run(TARGET, batches=6, batch=4, seed=1)
    b = synthetic_grid_run(TARGET, budget=16)
    _record(root, "de-run", a)
    _record(root, "grid-run", b)
    yield root, a, b
    monkeypatch.delenv("TZ")
    time.tzset()


def _best_curve(events) -> np.ndarray:
    loss = np.concatenate([np.where([bool(f) for f in e.flags], np.inf, e.losses)
                           for e in events if isinstance(e, BatchEvaluated)])
    return np.minimum.accumulate(loss)


@pytest.mark.slow
@aio
async def test_runs_screen_marks_compares_and_opens(two_runs):
    from tui.screens.main import MainScreen
    from tui.screens.runs import RunsScreen
    from tui.widgets.best_curves import BestCurves
    from tui.widgets.compare_table import CompareTable
    from tui.widgets.runs_table import RunsTable

    root, a, b = two_runs
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(RunsScreen(str(root)))
        await pilot.pause()
        rs = app.screen
        table = rs.query_one(RunsTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        assert [r.name for r in table.runs] == ["de-run", "grid-run"]
        await pilot.press("space", "down", "space")
        assert len(table.marked) == 2 and table.get_row_at(0)[0].plain == "●"
        await pilot.press("c")
        curves = rs.query_one(BestCurves)
        await wait_for(pilot, lambda: len(curves.curves) == 2)
        assert rs.query_one("#runs-tabs").active == "compare"
        for curve, events in zip(curves.curves, (a, b)):
            ref = _best_curve(events)
            np.testing.assert_allclose(curve.best_so_far, ref)
            np.testing.assert_array_equal(curve.evaluations, np.arange(1, len(ref) + 1))
            assert curve.best_loss == pytest.approx(ref[-1])
        ct = rs.query_one(CompareTable)
        assert ct.row_count == 2
        keys = [str(c.key.value) for c in ct.ordered_columns]
        assert {"param:k", "param:sigma", "best loss", "FC r"} <= set(keys)
        row = ct.get_row_at(1)
        assert float(row[keys.index("best loss")].plain) == pytest.approx(_best_curve(b)[-1], rel=1e-4)
        # open one: a read-only viewer replays it; escape comes back to the list
        await pilot.press("l")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.state == "finished")
        viewer = app.screen
        assert viewer.attach.endswith("grid-run") and viewer.query_one(LossPlot).count == 16  # the cursor's run
        iu = np.triu_indices(DATA.n_nodes, 1)
        ref = np.corrcoef(DATA.cmat[iu], TARGET[iu])[0, 1]
        assert viewer.query_one(LossPlot).baseline == pytest.approx(ref)  # Cmat read from the run directory
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is rs


class RunsHost(App):
    """Just the Runs screen over an empty one (the full app starts slower)."""

    CSS_PATH = str(Path(tui.app.__file__).parent / "wcfit.tcss")


@aio
async def test_runs_screen_without_a_runs_directory_says_so(tmp_path):
    from tui.screens.runs import RunsScreen

    app = RunsHost()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(RunsScreen(str(tmp_path / "none")))
        await wait_for(pilot, lambda: "no runs directory" in str(app.screen.query_one("#runs-note").render()))
        await pilot.press("c")  # nothing to compare: a warning, no crash
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunsScreen)


# -- snapshots ----------------------------------------------------------------------------------

def _landscape(terms: bool = False):
    async def run_before(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        feed(app, synthetic_grid_run(TARGET, budget=30, terms=terms, diverged=9))
        app.screen.query_one("#tabs").active = "landscape"
        land = app.screen.query_one(Landscape)
        await wait_for(pilot, lambda: land.size.width > 0 and land.drawn_current)  # shown, all batches drawn
        app.clear_notifications()
        await pilot.pause()
    return run_before


def test_snapshot_landscape_wide(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(160, 48), run_before=_landscape())


def test_snapshot_landscape_narrow(snap_compare):
    assert snap_compare(WcfitApp(probe_devices=False), terminal_size=(80, 24), run_before=_landscape())


def test_snapshot_runs_compare_narrow(snap_compare, two_runs):
    from tui.screens.runs import RunsScreen
    from tui.widgets.best_curves import BestCurves
    from tui.widgets.runs_table import RunsTable

    root = two_runs[0]

    async def run_before(pilot) -> None:
        app = pilot.app
        app.push_screen(RunsScreen(str(root)))
        await pilot.pause()
        await wait_for(pilot, lambda: app.screen.query_one(RunsTable).row_count == 2)
        await pilot.press("space", "down", "space", "c")
        await wait_for(pilot, lambda: len(app.screen.query_one(BestCurves).curves) == 2)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(RunsHost(), terminal_size=(80, 24), run_before=run_before)


@aio
async def test_scatter_without_bounds_uses_the_range_of_the_points():
    app = LandscapeApp(True)  # and the ASCII ramp
    async with app.run_test(size=(60, 16)) as pilot:
        land = app.query_one(Landscape)
        land.reset(("k", "sigma"))  # bounds not known yet (the fit's Started event brings them)
        land.add_batch(0, np.array([[1.0, 0.1], [2.0, 0.2], [1.5, 0.15]]), np.array([0.5, 0.7, 0.4]))
        await pilot.pause()
        text = "\n".join(land.render_line(y).text for y in range(land.size.height))
        assert land.mode == "scatter" and BEST_MARK in text and "best 0.4 at k=" in text


@aio
async def test_best_candidates_show_the_parameters_that_fit_and_count_the_rest():
    """Eleven fitted parameters in a third of 160 columns: whole values for those that fit, a "+N" column for the rest
    (the Candidates tab lists them all), never every column squeezed to an ellipsis."""
    from rich.console import Console

    from tui.widgets.dashboard import PARAM_WIDTH, TopCandidates

    names = tuple(f"p{i}@map" for i in range(11))
    top = TopCandidates()
    top.reset(names)
    values = np.array([[1.23456 + i for i in range(11)], [-0.5] * 11])
    top.add_batch(0, names, values, np.array([0.4, 0.6]), ("", ""))
    shown = top.shown_params(50)
    assert 0 < shown < 11 and top.shown_params(200) == 11
    assert 4 + 7 + 6 + shown * (PARAM_WIDTH + 1) + 4 <= 50  # the shown columns and "+N" fit the width
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.mount(top)
        top.styles.width, top.styles.height = 50, 6
        await pilot.pause()
        console = Console(width=50, record=True, color_system=None)
        console.print(top.render())
        text = console.export_text()
    assert f"+{11 - shown}" in text and "…" in text
    assert "1.235" in text and "-0.5" in text  # the first parameter's values whole
    assert all(n in text for n in names[:shown]) and names[-1] not in text
