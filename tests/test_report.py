"""``wcfit-tui report``: the figures of a small real fit and of a small study exist, are not blank and are embedded in
the page; matplotlib missing is one line and exit 2; the regional figure on the Schaefer data; the app at 80×24
shows device information on its first screen and F7 writes the report."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support import aio, utc_clock, wait_for  # noqa: F401 - utc_clock is an autouse fixture
from tests.support import run_main

pytest.importorskip("matplotlib")


def _not_blank(png: Path) -> None:
    """The image has content: its pixels vary and a fair share of them is not white."""
    from matplotlib.image import imread

    img = imread(png)[..., :3]
    assert img.shape[0] > 100 and img.shape[1] > 100, png
    assert float(img.std()) > 0.05, f"{png} looks blank"
    assert float((img.min(axis=2) < 0.9).mean()) > 0.01, f"{png} is almost all white"


def _check_report(out: str, html: Path, figures: list[Path], expected: set[str]) -> None:
    assert html.name == "report.html" and html.is_file()
    page = html.read_text()
    pngs = [f for f in figures if f.suffix == ".png"]
    assert {f.stem for f in pngs} == expected
    for f in pngs:
        _not_blank(f)
        assert base64.b64encode(f.read_bytes()).decode() in page, f"{f.name} is not embedded in the page"
    assert "http://" not in page and "https://" not in page  # nothing to fetch: it opens offline


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    """A small real fit of the bold preset on the bundled data (one batch of 8 over 60 s)."""
    root = tmp_path_factory.mktemp("report-runs")
    r = run_main("fit", "--preset", "bold", "--duration", "60000", "--batch", "8", "--budget", "8", "--out", str(root),
                 "--name", "bold")
    assert r.returncode == 0, r.stderr
    return root / "bold"


@pytest.mark.slow
def test_report_of_a_real_fit(fitted: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    r = run_main("report", str(fitted), "-o", str(out), "--format", "png,svg")
    assert r.returncode == 0, r.stderr
    lines = [Path(x) for x in r.stdout.split()]
    _check_report(str(out), lines[0], lines[1:], {"fc_matrices", "fc_scatter", "fcd", "history", "verdict"})
    assert {p.suffix for p in lines[1:]} == {".png", ".svg"} and all(p.is_file() for p in lines[1:])
    page = lines[0].read_text()
    config = json.loads((fitted / "config.json").read_text())
    info = json.loads((fitted / "dataset.json").read_text())
    assert info["target_fc_sha256"] in page  # the data fingerprint
    assert f"{config['seed']} · " in page and "version: jax" in page and "version: matplotlib" in page
    assert (fitted / "best_signal.npz").is_file()  # the run kept the best's BOLD: the model's FCD is drawn
    assert "Missing" not in page


@pytest.mark.slow
def test_report_reads_fresh_noise_held_out_and_map_baselines_when_present(fitted: Path, tmp_path: Path) -> None:
    from engine.report import build_report
    from engine.report.history_figures import baselines
    from engine.report.verdict_figures import score_points

    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    status = json.loads((run / "status.json").read_text())
    s = status["summary"]
    s["fresh"] = {"seeds": [1, 2, 3], "fc_corr_mean": 0.4, "fc_corr_sd": 0.02, "fcd_ks_mean": 0.5, "fcd_ks_sd": 0.05,
                  "mean_fc_mean": 0.3, "mean_fc_sd": 0.01, "data_mean_fc": 0.25, "test": {"fc_corr_mean": 0.35},
                  "node_regime": {"regions": 80, "quiet": 0, "oscillating": 80, "saddle": 0, "frequency_hz": 64.2,
                                  "growth_per_ms": 0.06}}
    s["held_out"] = {"train_r": 0.45, "test_r": 0.41, "train_ks": 0.6, "test_ks": 0.66, "test_baseline": 0.3}
    s["map_baselines"] = {"myelinmap": 0.12}
    s["tradeoff"] = {"candidates": 8, "meeting": 0, "ks_bar": 0.2, "level_bar": None, "best_meeting": None,
                     "best_any": {"evaluation": 3, "fc_corr": 0.41, "fcd_ks": 0.55, "fc_level": None},
                     "lowest_ks": {"evaluation": 5, "fc_corr": 0.2, "fcd_ks": 0.31, "fc_level": None}}
    (run / "status.json").write_text(json.dumps(status))
    panels = score_points(s)
    assert [p[0] for p in panels["FC correlation r"]] == ["fit (its noise)", "fresh noise (3 seeds)", "held-out: train",
                                                          "held-out: test", "test, fresh noise (3 seeds)"]
    assert panels["mean FC"][1][1] == 0.25
    assert [b[0] for b in baselines(s)] == ["structure alone", "myelinmap alone"]
    report = build_report(run, tmp_path / "out")
    _not_blank(report.html.parent / "verdict.png")
    _not_blank(report.html.parent / "history.png")
    assert "80 of 80 regions past their Hopf point (noisy ≈ 64 Hz oscillators)" in report.html.read_text()
    assert "Joint bars: none of 8 candidates met FCD KS ≤ 0.20 (search scores, one seed each); lowest KS 0.31" in report.html.read_text()


@pytest.mark.slow
def test_report_of_a_study(fitted: Path, tmp_path: Path) -> None:
    from engine.report.source import load_dataset
    from engine.runs.layout import load_config
    from engine.study.run import Subject, create_study

    study = tmp_path / "study"
    subjects = [Subject(name=f"subject-{i:03d}", scans=(i,)) for i in range(3)]
    create_study(study, load_config(fitted), load_dataset(fitted), subjects, "scan")
    for s in subjects:  # each subject's run: the real fit (a study's subjects are ordinary run directories)
        shutil.copytree(fitted, study / s.name)
    out = tmp_path / "report"
    r = run_main("report", str(study), "-o", str(out))
    assert r.returncode == 0, r.stderr
    lines = [Path(x) for x in r.stdout.split()]
    _check_report(str(out), lines[0], lines[1:], {"study_scores", "study_distributions"})
    page = lines[0].read_text()
    assert all(s.name in page for s in subjects) and "<table>" in page  # the per-subject table


def test_missing_matplotlib_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    r = run_main("report", str(tmp_path), "-o", str(tmp_path / "out"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "matplotlib" in r.stderr and "pip install 'wcfit-tui[report]'" in r.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_format_and_no_run(tmp_path: Path) -> None:
    r = run_main("report", str(tmp_path / "nothing"))
    assert r.returncode == 2 and r.stderr.startswith("wcfit-tui: no run")
    r = run_main("report", str(tmp_path), "--format", "png,jpg")
    assert r.returncode == 2 and "unknown figure format 'jpg'" in r.stderr


@pytest.mark.slow
def test_regional_figure_by_network_on_schaefer(tmp_path: Path) -> None:
    from engine import presets
    from engine.data.dataset import load_dataset
    from engine.report.canvas import save
    from engine.report.regional_figures import regional_figure, regional_values
    from engine.report.regions import YEO7_NAMES, region_order

    dataset = load_dataset("schaefer100")
    preset = presets.get("regional")
    from engine.model.target import align_group_fcd

    config = align_group_fcd(preset.config(data="schaefer100", duration_ms=60_000.0), dataset)  # as a fit prepares it
    order = region_order(dataset)
    assert np.array_equal(order.order, np.arange(100))  # Schaefer is already grouped: drawn in its own order
    assert order.hemispheres is not None and order.hemispheres.starts == (0, 50)
    assert order.networks is not None and order.networks.names[:7] == YEO7_NAMES
    values = regional_values(config, dataset, preset.point)
    assert set(values) == {"ext_E", "wIE"} and all(v.shape == (100,) for v in values.values())
    assert np.ptp(values["ext_E"]) > 0  # the drive follows the maps
    png, _ = save(regional_figure(values, order, preset.point), tmp_path, ("png",))
    _not_blank(tmp_path / "regional.png")


@aio
async def test_app_at_80x24_shows_device_information_on_its_first_screen() -> None:
    from textual.widgets._footer import FooterKey

    from tui.app import WcfitApp
    from tui.widgets.device_panel import DeviceLine

    app = WcfitApp()  # the real device probe
    async with app.run_test(size=(80, 24)) as pilot:
        line = app.screen.query_one(DeviceLine)
        await wait_for(pilot, lambda: "backend " in str(line.content))
        for key in ("f2", "f3"):  # the setup tab, then the fit tab: the line stays on screen
            await pilot.press(key)
            await pilot.pause()
            assert line.display and line.region.height == 1 and line.region.y < 24
            assert app.screen.get_widget_at(2, line.region.y)[0] is line
        text = str(line.content)
        assert "backend cpu" in text and "no fit yet" in text and ("RAM" in text or "GiB" in text)
        keys = [k for k in app.screen.query(FooterKey) if k.key == "f1"]
        assert keys and keys[0].region.right <= 80 and keys[0].region.width >= len("f1 Help")


@pytest.mark.slow
@aio
async def test_app_f7_writes_the_report_of_the_attached_run(fitted: Path, tmp_path: Path) -> None:
    from tui.app import WcfitApp

    run = tmp_path / "run"
    shutil.copytree(fitted, run)
    app = WcfitApp(attach=str(run), probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.screen.run_path is not None)
        await pilot.press("f7")
        await wait_for(pilot, lambda: (run / "export" / "report" / "report.html").is_file())
    _not_blank(run / "export" / "report" / "fc_matrices.png")
