"""Render screenshots/*.png from the real app: idle, a real fit running and finished, its candidates, log and landscape,
a real Grid scan over k × sigma filling its landscape, the Runs screen comparing the two runs, a real study's subjects
(as ``attach STUDY`` shows them), and a short real BOLD fit's FCD/BOLD tab and Explore tab (``--only signals`` makes just those two, ``--only study`` the study's).

Drives the app with pilot: fills the setup form (duration, budget, batch), presses F5 and lets the engine fit the
bundled data for real, saving the screen with ``save_screenshot`` while it runs and when it ends. Each SVG is converted
with rsvg-convert (apt-get install librsvg2-bin fonts-dejavu-core). The run directory goes to a temporary folder.
(The SVG snapshot tests use the deterministic synthetic events of tui.demo instead.)
Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR [WxH ...]] [--only fit|signals|study]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.widgets import (  # noqa: E402
    Input,
    Select,
    TabbedContent,  # noqa: E402
)

from tui.app import WcfitApp  # noqa: E402
from tui.widgets.loss_plot import LossPlot  # noqa: E402

#: The fit the screenshots show: short simulations so that it ends in about a minute on two CPU cores.
FORM = {"duration_ms": "1000", "budget": "24", "batch": "4"}
RUNNING_AT = 8  # evaluations shown before the "running" screenshot (two batches of four)
#: The Grid scan of the landscape screenshots: 5 × 5 points over k × sigma.
GRID = {"duration_ms": "1000", "budget": "25", "batch": "4", "lo-sigma": "0.01", "hi-sigma": "0.1"}
GRID_AT = 12  # evaluations shown in the "landscape-running" screenshot
#: The study of the study screenshot: one short fit per subject of the bundled data (7 subjects).
STUDY = ["--preset", "tutorial", "--duration", "2000", "--budget", "8", "--batch", "4"]
#: The BOLD fit of the FCD/BOLD and Explore screenshots: 50 s recorded (69 samples at TR 0.72 s: 7 FCD windows).
BOLD = {"duration_ms": "60000", "transient_ms": "10000", "budget": "8", "batch": "4"}


def to_png(svg: Path, png: Path) -> None:
    """SVG → PNG; rsvg keeps leading non-breaking spaces only with xml:space="preserve"."""
    text = svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1)
    svg.write_text(text)
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)


def _holds(cond) -> bool:
    try:
        return bool(cond())
    except Exception:  # noqa: BLE001 - a screen that is not composed yet
        return False


async def wait_for(pilot, cond, timeout: float, what: str) -> None:
    t = time.monotonic()
    while not _holds(cond):
        if time.monotonic() - t > timeout:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        await pilot.pause(0.05)


async def shoot(out: Path, size: tuple[int, int], only: str | None = None) -> list[Path]:
    tag = f"{size[0]}x{size[1]}"
    made = []
    app = WcfitApp()
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        form = screen.query_one("#form")
        device = screen.query_one("#device")
        await wait_for(pilot, lambda: form.dataset is not None and device.info.backend != "…", 60, "dataset and devices")
        await pilot.pause()

        async def save(name: str, tab: str | None = None) -> None:
            tabs = app.screen.query_one(TabbedContent) if tab else None
            if tabs is not None and tabs.active != tab:
                tabs.active = tab
                await pilot.pause(0.6)  # let the tab underline finish its slide
            app.clear_notifications()
            await pilot.pause()
            svg = out / f"{name}-{tag}.svg"
            app.save_screenshot(filename=svg.name, path=str(out))
            to_png(svg, svg.with_suffix(".png"))
            svg.unlink()
            made.append(svg.with_suffix(".png"))
            print(svg.with_suffix(".png"), flush=True)

        if only == "signals":
            await signals_views(pilot, save)
            return made
        if only == "study":
            await study_view(pilot, save)
            return made
        await save("idle")
        screen.query_one("#preset", Select).value = "tutorial"  # raw rE for short candidates (the default is bold)
        await pilot.pause(0.3)
        for name, value in FORM.items():
            screen.query_one(f"#{name}", Input).value = value
        await pilot.pause(0.5)
        assert form.problem is None, form.problem
        await pilot.press("f5")
        plot = screen.query_one(LossPlot)
        await wait_for(pilot, lambda: plot.count >= RUNNING_AT or screen.state not in ("preparing", "compiling", "running"),
                       600, f"{RUNNING_AT} evaluations")
        assert screen.state == "running", f"the fit is {screen.state}, not running: {screen.summary}"
        screen._drain = lambda: None  # freeze the display while saving: the fit goes on, its events wait in the pump
        await save("running", "fit")
        del screen._drain  # back to the class's method: the queued events show
        await wait_for(pilot, lambda: screen.state in ("finished", "stopped", "failed"), 900, "the end of the fit")
        await pilot.pause(0.3)
        assert screen.state == "finished", f"the fit {screen.state}: {screen.summary}"
        await save("finished", "fit")
        if screen.has_class("narrow"):
            await save("fc", "fc")
        await save("candidates", "candidates")
        await save("log", "log")
        await save("landscape-line", "landscape")  # the fit above is over k alone: a line through its points

        # a Grid scan over k × sigma: its landscape fills cell by cell
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        screen.query_one("#optimizer", Select).value = "Grid"
        screen.query_one("#fit-sigma").value = True
        await pilot.pause(0.3)
        for name, value in GRID.items():
            screen.query_one(f"#{name}", Input).value = value
        await pilot.pause(0.5)
        assert form.problem is None, form.problem
        await pilot.press("f5")
        await wait_for(pilot, lambda: plot.count >= GRID_AT or screen.state not in ("preparing", "compiling", "running"),
                       600, f"{GRID_AT} grid evaluations")
        screen._drain = lambda: None  # freeze the display while saving (see above)
        await save("landscape-running", "landscape")
        del screen._drain
        await wait_for(pilot, lambda: screen.state in ("finished", "stopped", "failed"), 900, "the end of the scan")
        await pilot.pause(0.3)
        assert screen.state == "finished", f"the scan {screen.state}: {screen.summary}"
        await save("landscape-grid", "landscape")

        # the Runs screen: both runs marked and compared
        from tui.widgets.best_curves import BestCurves
        from tui.widgets.runs_table import RunsTable

        await pilot.press("f12")
        await wait_for(pilot, lambda: len(getattr(app.screen.query_one(RunsTable), "runs", [])) == 2, 60, "the runs")
        await pilot.press("space", "down", "space")
        await pilot.pause(0.3)
        await save("runs")
        await pilot.press("c")
        await wait_for(pilot, lambda: len(app.screen.query_one(BestCurves).curves) == 2, 60, "the compared runs")
        await pilot.pause(0.6)
        await save("runs-compare")
        if only is None:
            await pilot.press("escape")
            await pilot.pause(0.3)
            await study_view(pilot, save)
            await pilot.press("ctrl+r")
            await pilot.pause(0.3)
            await signals_views(pilot, save)
    return made


async def study_view(pilot, save) -> None:
    """A real study of the bundled data (one short tutorial-preset fit per subject, made by ``wcfit-tui study``)
    and its subjects' table as ``attach STUDY`` shows it."""
    from tui.screens.study import StudyScreen
    from tui.widgets.subjects_table import SubjectsTable

    subprocess.run([sys.executable, "-m", "tui.cli.fit", "study", *STUDY, "--out", "hcp-study", "--quiet"],
                   check=True)
    pilot.app.push_screen(StudyScreen("hcp-study"))
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, StudyScreen)
                   and pilot.app.screen.query_one(SubjectsTable).row_count == 7, 60, "the study's subjects")
    await pilot.pause(0.5)
    await save("study")
    await pilot.press("escape")


async def signals_views(pilot, save) -> None:
    """A short real BOLD fit (fc + 0.5·fcd_ks): its FCD/BOLD tab, then its best explored at 60 s."""
    from tui.widgets.explore import ExploreView

    screen = pilot.app.screen
    form = screen.query_one("#form")
    screen.query_one("#preset", Select).value = "bold"
    await pilot.pause(0.3)
    screen.query_one("#objective", Input).value = "fc+0.5*fcd_ks"
    for name, value in BOLD.items():
        screen.query_one(f"#{name}", Input).value = value
    await pilot.pause(0.5)
    assert form.problem is None, form.problem
    await pilot.press("f5")
    await wait_for(pilot, lambda: screen.state in ("finished", "stopped", "failed"), 900, "the end of the BOLD fit")
    assert screen.state == "finished", f"the BOLD fit {screen.state}: {screen.summary}"
    await wait_for(pilot, lambda: screen._signals_data is not None and screen._signals_model is not None, 120,
                   "the FCD of the data and of the best")
    await pilot.pause(0.3)
    await save("signals", "signals")
    screen.query_one("#tabs").active = "explore"
    await pilot.pause(0.3)
    screen.explore_from("best")
    view = screen.query_one(ExploreView)
    await wait_for(pilot, lambda: view.last is not None and not view.running, 900, "one explored candidate")
    await pilot.press("right")  # one step up in k: simulated at once
    await wait_for(pilot, lambda: view.shown_generation == view.generation and not view.running, 900, "the nudge")
    await pilot.pause(0.5)
    await save("explore", "explore")


def main() -> None:
    parser = argparse.ArgumentParser(description="Render screenshots/*.png from the real app (real fits, minutes).")
    parser.add_argument("out", nargs="?", default=str(ROOT / "screenshots"), help="folder for the PNGs")
    parser.add_argument("sizes", nargs="*", metavar="WxH", help="terminal sizes (default: 160x48 80x24)")
    parser.add_argument("--only", choices=("fit", "signals", "study"), help="make one group of screenshots")
    a = parser.parse_args()
    out = Path(a.out).resolve()
    try:
        sizes = [tuple(map(int, s.split("x"))) for s in a.sizes] or [(160, 48), (80, 24)]
    except ValueError:
        parser.error(f"sizes are WxH, e.g. 160x48: {' '.join(a.sizes)}")
    out.mkdir(parents=True, exist_ok=True)
    only = a.only
    if len(sizes) > 1:  # one app per process: Textual/plotext keep per-process state between apps
        for w, h in sizes:
            subprocess.run([sys.executable, __file__, str(out), f"{w}x{h}", *(["--only", only] if only else [])],
                           check=True)
        return
    with tempfile.TemporaryDirectory(prefix="wcfit-shots-") as tmp:
        os.chdir(tmp)  # the fit's run directory (./wcfit-runs) goes here, not into the repository
        for _ in asyncio.run(shoot(out, sizes[0], only)):
            pass


if __name__ == "__main__":
    main()
