"""A cohort's per-scan fields: ``subjects`` ids and ``Cmats``/``Dmats`` (each scan's own structure), read, checked and
used for each subject of a study; bad input is one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data.dataset import DataError, load_dataset
from engine.study.subjects import split_subjects, subject_dataset
from tests.support import random_structure, run_main

N, T = 5, 40
IDS = ("x", "x", "y")


def _write(path: Path, **over: Any) -> Path:
    rng = np.random.default_rng(3)
    c, d = random_structure(N, rng)
    own = {s: random_structure(N, rng) for s in ("x", "y")}
    arrays: dict[str, Any] = dict(Cmat=c, Dmat=d, BOLDs=rng.normal(size=(len(IDS), N, T)), subjects=np.array(IDS),
                                  Cmats=np.stack([own[s][0] for s in IDS]), Dmats=np.stack([own[s][1] for s in IDS]))
    arrays.update(over)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_subjects_and_each_scans_structure_are_read_and_each_subject_gets_its_own(tmp_path: Path) -> None:
    ds = load_dataset(str(_write(tmp_path / "d.npz")))
    assert ds.subjects == IDS and ds.scan_cmats is not None and ds.scan_dmats is not None
    assert ds.scan_cmats.shape == ds.scan_dmats.shape == (len(IDS), N, N)
    assert np.all(ds.scan_cmats[:, range(N), range(N)] == 0)  # diagonals zeroed, as Cmat's
    subjects = split_subjects(ds, "subject")  # the data's own ids: no file is read again
    assert [(s.name, s.scans) for s in subjects] == [("subject-x", (0, 1)), ("subject-y", (2,))]
    for s in subjects:
        one = subject_dataset(ds, s)
        np.testing.assert_array_equal(one.cmat, ds.scan_cmats[s.scans[0]])
        np.testing.assert_array_equal(one.dmat, ds.scan_dmats[s.scans[0]])
        assert one.subjects == tuple(IDS[i] for i in s.scans) and one.n_scans == len(s.scans)
        np.testing.assert_allclose(one.target_fc, np.mean([np.corrcoef(ds.scans[i]) for i in s.scans], axis=0))
    assert not np.array_equal(subject_dataset(ds, subjects[0]).cmat, ds.cmat)  # the group's stays the file's fit's
    per_scan = split_subjects(ds, "scan")
    np.testing.assert_array_equal(subject_dataset(ds, per_scan[2]).cmat, ds.scan_cmats[2])


def test_without_per_scan_structure_every_subject_uses_the_files_structure(tmp_path: Path) -> None:
    ds = load_dataset(str(_write(tmp_path / "d.npz", Cmats=None, Dmats=None)))
    assert ds.scan_cmats is None and ds.scan_dmats is None
    for s in split_subjects(ds, "subject"):
        one = subject_dataset(ds, s)
        np.testing.assert_array_equal(one.cmat, ds.cmat)
        np.testing.assert_array_equal(one.dmat, ds.dmat)


def test_per_scan_lengths_alone_keep_the_files_weights(tmp_path: Path) -> None:
    ds = load_dataset(str(_write(tmp_path / "d.npz", Cmats=None)))
    one = subject_dataset(ds, split_subjects(ds, "subject")[1])
    np.testing.assert_array_equal(one.cmat, ds.cmat)
    assert ds.scan_dmats is not None
    np.testing.assert_array_equal(one.dmat, ds.scan_dmats[2])


def _bad(kind: str) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    good = np.abs(rng.normal(size=(len(IDS), N, N)))
    if kind == "shape":
        return {"Cmats": good[:2]}
    if kind == "nan":
        good[1, 2, 3] = np.nan
        return {"Cmats": good}
    if kind == "negative":
        good[0, 1, 2] = -1.0
        return {"Dmats": good}
    if kind == "ids":
        return {"subjects": np.array(["x", "y"])}
    raise AssertionError(kind)


@pytest.mark.parametrize(("kind", "says"), [
    ("shape", "Cmats must be 3×5×5 (one 5×5 matrix of weights per scan, in the order of BOLDs), got shape (2, 5, 5)"),
    ("nan", "Cmats contains 1 NaN and 0 inf values"),
    ("negative", "Dmats has 1 negative lengths"),
    ("ids", "subjects has 2 ids for 3 scans (one id per scan)"),
])
def test_bad_per_scan_fields_are_one_line(tmp_path: Path, kind: str, says: str) -> None:
    path = _write(tmp_path / "d.npz", **_bad(kind))
    with pytest.raises(DataError) as e:
        load_dataset(str(path))
    assert says in str(e.value) and "\n" not in str(e.value)


def test_per_scan_fields_need_scans(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    c, d = random_structure(N, rng)
    path = tmp_path / "fc.npz"
    np.savez(path, Cmat=c, Dmat=d, FC=np.eye(N), Cmats=np.stack([c, c]))
    with pytest.raises(DataError, match="Cmats gives each scan its structure, but the file has no BOLD scans"):
        load_dataset(str(path))
    np.savez(path, Cmat=c, Dmat=d, FC=np.eye(N), subjects=np.array(["a"]))
    with pytest.raises(DataError, match="subjects names the subject of each scan, but the file has no BOLD scans"):
        load_dataset(str(path))


def test_a_subject_whose_scans_carry_different_structures_is_refused_in_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    cmats = np.abs(rng.normal(size=(len(IDS), N, N)))  # scans 0 and 1 (subject x) differ
    path = _write(tmp_path / "d.npz", Cmats=cmats)
    ds = load_dataset(str(path))
    with pytest.raises(DataError, match="subject-x's scans carry different Cmats: a subject has one structure"):
        subject_dataset(ds, split_subjects(ds, "subject")[0])
    r = run_main("study", "--data", str(path), "--per", "subject", "--out", str(tmp_path / "s"), "--preset",
                 "tutorial", "--duration", "50", "--budget", "2", "--batch", "2", "--fresh", "0", "--quiet")
    assert r.returncode != 0 and "subject-x's scans carry different Cmats" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr


def test_the_bundled_scans_carry_their_subjects_and_structures() -> None:
    """cuBNM's per-subject structure of 100206 and 100307, prepared as its group file (strength ÷ its maximum, lengths
    in mm): close to the train group's (r ≈ 0.96 over edges), not equal to it."""
    ds = load_dataset("schaefer100-scans")
    assert ds.subjects == ("100206", "100206", "100307", "100307")
    assert ds.scan_cmats is not None and ds.scan_dmats is not None
    iu = np.triu_indices(ds.n_nodes, 1)
    for i in (0, 2):
        assert ds.scan_cmats[i].max() == 1.0 and np.allclose(ds.scan_cmats[i], ds.scan_cmats[i].T)
        assert 0.9 < np.corrcoef(ds.scan_cmats[i][iu], ds.cmat[iu])[0, 1] < 0.99
        np.testing.assert_array_equal(ds.scan_cmats[i], ds.scan_cmats[i + 1])  # one subject, one structure
    assert not np.array_equal(ds.scan_cmats[0], ds.scan_cmats[2])


def test_the_data_command_names_the_subjects_and_their_own_structure() -> None:
    import json

    r = run_main("data", "schaefer100-scans", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["subjects"] == ["100206", "100307"] and info["scan_structure"] == ["Cmats", "Dmats"]
    text = run_main("data", "schaefer100-scans").stdout
    assert "subjects   2: 100206, 100307" in text and "structure  each scan its own (Cmats, Dmats)" in text
    group = json.loads(run_main("data", "schaefer100", "--json").stdout)
    assert group["subjects"] is None and group["scan_structure"] == []
