"""``wcfit-tui data PATH``: what a dataset holds, its structural baseline and its problems; exit 2 when unusable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.data.dataset import Dataset, dataset_warnings, load_dataset, structural_baseline  # noqa: E402
from tests.support import Result, run_main  # noqa: E402


def wcfit(*args: str) -> Result:
    """``wcfit-tui ARGS`` in-process through main() (the real entry point: test_data_on_the_bundled_dataset)."""
    return run_main(*args)


def wcfit_process(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the suite's shared compilation cache (conftest)
    return subprocess.run([sys.executable, "-m", "tui.cli.fit", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def pearson_upper(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of the strict upper triangles, written out in float64."""
    iu = np.triu_indices(a.shape[0], 1)
    x, y = a[iu] - a[iu].mean(), b[iu] - b[iu].mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def small(tmp_path: Path, name: str = "small.npz", *, n: int = 5, lengths: tuple[int, ...] = (40, 40),
          asymmetric: bool = False, **extra: object) -> Path:
    rng = np.random.default_rng(3)
    c = rng.random((n, n))
    if not asymmetric:
        c = (c + c.T) / 2
    c /= c.max()
    d = rng.uniform(5, 100, (n, n))
    d = (d + d.T) / 2
    bolds = [rng.standard_normal((n, t)) + rng.standard_normal((1, t)) for t in lengths]
    path = tmp_path / name
    if len(set(lengths)) == 1:
        np.savez(path, Cmat=c, Dmat=d, BOLDs=np.stack(bolds), **extra)  # type: ignore[arg-type]
    else:
        import scipy.io

        cells = np.empty((1, len(bolds)), dtype=object)
        for k, b in enumerate(bolds):
            cells[0, k] = b
        scipy.io.savemat(path, {"Cmat": c, "Dmat": d, "BOLDs": cells, **extra})
    return path


# ---------------------------------------------------------------------------
# the library functions


def test_structural_baseline_matches_an_independent_pearson(bundled: Dataset) -> None:
    r = structural_baseline(bundled)
    assert r == pytest.approx(pearson_upper(bundled.cmat, bundled.target_fc), abs=1e-12)
    assert 0.3 < r < 0.4  # HCP's known structure–function correlation at this resolution


def test_structural_baseline_undefined_when_constant(tmp_path: Path) -> None:
    n = 4
    path = tmp_path / "flat.npz"
    np.savez(path, Cmat=np.ones((n, n)), Dmat=np.ones((n, n)), FC=np.eye(n) + 0.1)
    ds = load_dataset(path)
    assert np.isnan(structural_baseline(ds))
    assert any("baseline undefined" in w for w in dataset_warnings(ds))


def test_warnings_name_each_problem(tmp_path: Path) -> None:
    ds = load_dataset(small(tmp_path, "w.mat", lengths=(40, 35), asymmetric=True))
    w = dataset_warnings(ds)
    assert any(x.startswith("no TR: BOLD observation needs --tr") for x in w)
    assert any("scans differ in length (35–40 samples)" in x for x in w)
    assert any(x.startswith("Cmat not symmetric") for x in w)
    assert any(x.startswith("no labels") for x in w)
    assert all("\n" not in x for x in w)
    clean = load_dataset(small(tmp_path, TR=0.8, labels=np.array(list("abcde"))))
    assert dataset_warnings(clean) == []


def test_warnings_scale_isolated_and_zero_lengths(tmp_path: Path) -> None:
    n, t = 4, 30
    rng = np.random.default_rng(0)
    c = np.full((n, n), 50.0)
    c[3, :] = c[:, 3] = 0  # region 3 is isolated
    d = np.full((n, n), 10.0)
    d[0, 1] = d[1, 0] = 0.0  # a connection without delay
    path = tmp_path / "odd.npz"
    np.savez(path, Cmat=c, Dmat=d, BOLDs=rng.standard_normal((1, n, t)), TR=1.0,
             labels=np.array(["a", "b", "c", "d"]))
    w = dataset_warnings(load_dataset(path))
    assert any("1 region(s) have no connections" in x and "3 (d)" in x for x in w)
    assert any("largest weight is 50" in x for x in w)
    assert any(x.startswith("1 connection(s) have tract length 0") for x in w)


# ---------------------------------------------------------------------------
# the subcommand, as a user runs it


def test_data_on_the_bundled_dataset() -> None:
    r = wcfit_process("data", "bundled")
    assert r.returncode == 0, r.stderr
    ds = load_dataset()
    out = r.stdout
    assert "regions    80" in out and "scans      7" in out and "samples    1200 per scan" in out
    assert "TR         0.72 s" in out
    assert f"r = {pearson_upper(ds.cmat, ds.target_fc):.4f}" in out
    assert "labels     80: Precentral_L, Precentral_R, Frontal_Sup_2_L, Frontal_Sup_2_R," in out
    assert "no labels" not in out
    assert r.stderr == ""


def test_data_on_a_folder_text_and_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, t = 7, 30
    folder = tmp_path / "subjects"
    folder.mkdir()
    c = rng.random((n, n))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0)
    c /= c.max()
    d = rng.uniform(5, 50, (n, n))
    d = (d + d.T) / 2
    (folder / "weights.csv").write_text("\n".join(",".join(repr(float(x)) for x in row) for row in c))
    (folder / "tract_lengths.csv").write_text("\n".join(",".join(repr(float(x)) for x in row) for row in d))
    names = [f"Region {i}" for i in range(n)]
    bolds = []
    for k in range(2):
        b = rng.standard_normal((t, n))
        bolds.append(b.T)
        (folder / f"sub-{k}.tsv").write_text("\t".join(names) + "\n"
                                             + "\n".join("\t".join(repr(float(x)) for x in row) for row in b))
    (folder / "dataset.json").write_text(json.dumps({"TR": 1.5}))
    fc = np.mean([np.corrcoef(b) for b in bolds], axis=0)

    r = wcfit("data", str(folder))
    assert r.returncode == 0, r.stderr
    assert "regions    7" in r.stdout and "scans      2" in r.stdout and "samples    30 per scan" in r.stdout
    assert "TR         1.5 s (45 s per scan)" in r.stdout
    assert "labels     7: Region 0, Region 1, Region 2, Region 3, Region 4, Region 5, …" in r.stdout
    assert f"r = {pearson_upper(c, fc):.4f}" in r.stdout
    assert "ok         no problems found" in r.stdout

    j = wcfit("data", str(folder), "--json")
    assert j.returncode == 0, j.stderr
    info = json.loads(j.stdout)
    assert info["usable"] is True and info["n_nodes"] == 7 and info["n_scans"] == 2
    assert info["samples"] == [30, 30] and info["tr_s"] == 1.5 and info["labels"] == names
    assert info["structural_baseline"] == pytest.approx(pearson_upper(c, fc), abs=1e-12)
    assert info["warnings"] == [] and info["name"] == "subjects"
    assert info["maps"] == {"carried": {}, "error": None, "derived": ["strength", "fcgradient"]}

    (folder / "maps").mkdir()  # maps beside the scans: named in the summary, a categorical one with its groups
    np.savetxt(folder / "maps" / "myelin.txt", rng.random(n))
    np.savetxt(folder / "maps" / "net.txt", [0, 0, 1, 1, 2, 2, 2], fmt="%d")
    r = wcfit("data", str(folder))
    assert "maps       myelin, net (3 groups); derived: strength, fcgradient (P@MAP)" in r.stdout, r.stdout
    np.savetxt(folder / "maps" / "short.txt", rng.random(n - 2))  # a broken map: said, and the data stays usable
    r = wcfit("data", str(folder))
    assert r.returncode == 0 and "short.txt" in r.stdout and "warning    maps:" in r.stdout, r.stdout


def test_data_prints_every_warning_and_still_exits_0(tmp_path: Path) -> None:
    r = wcfit("data", str(small(tmp_path, "w.mat", lengths=(40, 33), asymmetric=True)))
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stdout.splitlines() if line.startswith("warning")]
    assert len(warnings) == 4, r.stdout
    assert "samples    33–40 per scan" in r.stdout and "TR         —" in r.stdout


@pytest.mark.parametrize("make_bad, phrase", [
    (lambda p: p / "missing.mat", "not found"),
    (lambda p: (p / "e").mkdir() or p / "e", "is empty"),
    (lambda p: (p / "x.mat").write_bytes(b"junk" * 50) and p / "x.mat", "not a MATLAB .mat file"),
    (lambda p: (p / "r.csv").write_text("a,b\n1\n") and p / "r.csv", "unknown dataset format"),
])
def test_data_unusable_is_one_line_and_exit_2(tmp_path: Path, make_bad, phrase: str) -> None:
    path = make_bad(tmp_path)
    r = wcfit("data", str(path))
    assert r.returncode == 2 and r.stdout == ""
    assert phrase in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    j = wcfit("data", str(path), "--json")
    assert j.returncode == 2
    info = json.loads(j.stdout)
    assert info["usable"] is False and phrase in info["error"]
