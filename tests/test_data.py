"""Tests for engine.data.dataset: every dataset source, every rejected file, and the FC definition."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the package may not be installed into the venv
    sys.path.insert(0, str(ROOT))

from engine.data import checks as checks_mod  # noqa: E402
from engine.data import dataset as data_mod  # noqa: E402
from engine.data import kaggle as kaggle_mod  # noqa: E402
from engine.data.dataset import (  # noqa: E402
    DataError,
    Dataset,
    bundled_path,
    functional_connectivity,
    load_dataset,
)
from engine.data.formats.msgpack_file import read_msgpack  # noqa: E402


# ---------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def braintools_mod() -> Any:
    """braintools, imported once (slow: pulls in jax) and only by the tests that need it."""
    import braintools  # a hard dependency: a broken install fails here rather than skipping

    return braintools


def _pack_default(x: Any) -> Any:
    """braintools' ext encoding of numpy arrays/scalars, written independently of engine.data.dataset."""
    if isinstance(x, np.ndarray):
        payload = msgpack.packb((x.shape, x.dtype.name, x.tobytes("C")), use_bin_type=True)
        return msgpack.ExtType(1, payload)
    if isinstance(x, np.generic):
        arr = np.asarray(x)
        payload = msgpack.packb((arr.shape, arr.dtype.name, arr.tobytes("C")), use_bin_type=True)
        return msgpack.ExtType(3, payload)
    raise TypeError(f"cannot pack {type(x)}")


def write_msgpack(path: Path, obj: Any) -> Path:
    """Write obj in braintools' msgpack array format (lists stay lists)."""
    path.write_bytes(msgpack.packb(obj, default=_pack_default, strict_types=True))
    return path


def make_arrays(n: int = 12, scans: int = 3, t: int = 200, seed: int = 0) -> dict[str, Any]:
    """A small valid dataset: symmetric Cmat in [0, 1], Dmat in mm, BOLDs as a list of N×T."""
    rng = np.random.default_rng(seed)
    c = rng.random((n, n))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0.7)  # non-zero on purpose: the loader must zero it
    d = rng.uniform(5, 200, (n, n))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 3.0)
    common = rng.standard_normal((1, t))
    bolds = [(rng.standard_normal((n, t)) + 0.5 * common).astype(np.float32) * 1e4 for _ in range(scans)]
    return {"Cmat": c, "Dmat": d, "BOLDs": bolds}


def expected_fc(bolds: list[np.ndarray]) -> np.ndarray:
    """Mean over scans of numpy's corrcoef of each N×T scan."""
    return np.mean([np.corrcoef(np.asarray(b, dtype=np.float64)) for b in bolds], axis=0)


def assert_one_line(err: pytest.ExceptionInfo[DataError], *parts: str) -> str:
    """The message is one line and mentions every part (case-insensitive)."""
    msg = str(err.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    for part in parts:
        assert part.lower() in msg.lower(), (part, msg)
    return msg


# ---------------------------------------------------------------------------
# the bundled dataset


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    """The bundled HCP dataset, loaded once."""
    return load_dataset()


def test_bundled_file_and_readme_ship() -> None:
    assert bundled_path().is_file()
    readme = bundled_path().with_name("README.md").read_text()
    assert "hcp80.msgpack" in readme and "MIT" in readme and "default dataset" in readme


def test_bundled_facts(bundled: Dataset) -> None:
    ds = bundled
    assert ds.name == "hcp80 (bundled)"
    assert ds.n_nodes == 80 and ds.n_scans == 7 and ds.n_timepoints == 1200
    for m in (ds.cmat, ds.dmat, ds.target_fc):
        assert m.shape == (80, 80) and m.dtype == np.float64
    np.testing.assert_allclose(ds.cmat, ds.cmat.T)
    assert np.all(np.diag(ds.cmat) == 0) and np.all(np.diag(ds.dmat) == 0)
    assert ds.cmat.min() >= 0 and ds.cmat.max() <= 1
    iu = np.triu_indices(80, 1)
    assert ds.dmat[iu].min() > 0
    np.testing.assert_allclose(np.diag(ds.target_fc), 1.0)
    assert abs(ds.target_fc[iu].mean() - 0.340) < 0.005
    assert abs(np.corrcoef(ds.cmat[iu], ds.target_fc[iu])[0, 1] - 0.343) < 0.005


def test_bundled_aliases(bundled: Dataset) -> None:
    for src in ("bundled", bundled_path(), str(bundled_path())):
        ds = load_dataset(src)
        np.testing.assert_array_equal(ds.target_fc, bundled.target_fc)
        np.testing.assert_array_equal(ds.cmat, bundled.cmat)
    assert load_dataset(bundled_path()).name == "hcp80"


def test_bundled_matches_braintools_reader(bundled: Dataset, braintools_mod: Any) -> None:
    """Our plain-msgpack decoder reads exactly what braintools.file.msgpack_load reads."""
    raw = braintools_mod.file.msgpack_load(str(bundled_path()))
    assert set(raw) == {"Cmat", "Dmat", "BOLDs", "TR"}
    assert float(raw["TR"]) == 0.72 == load_dataset().tr_s  # HCP's repetition time, in seconds
    decoded = read_msgpack(bundled_path())
    for key in ("Cmat", "Dmat"):
        np.testing.assert_array_equal(decoded[key], np.asarray(raw[key]))
    assert type(decoded["BOLDs"]) is type(raw["BOLDs"])
    ours = checks_mod.bold_scans(decoded["BOLDs"], path=bundled_path())
    bolds = [np.asarray(b) for b in checks_mod.bold_scans(raw["BOLDs"], path=bundled_path())]
    assert len(ours) == len(bolds) == 7
    for mine, ref in zip(ours, bolds):
        np.testing.assert_array_equal(mine, ref)
        assert ref.shape == (80, 1200)
    np.testing.assert_allclose(bundled.target_fc, expected_fc(bolds), atol=1e-12)
    c = np.array(raw["Cmat"], dtype=np.float64)
    np.fill_diagonal(c, 0)
    np.testing.assert_array_equal(bundled.cmat, c)


def test_engine_data_import_is_light() -> None:
    code = (
        "import sys, engine.data.dataset as d; d.load_dataset(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('jax', 'brainstate', 'braintools', 'textual', 'kagglehub')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


# ---------------------------------------------------------------------------
# functional_connectivity


def test_fc_matches_braintools_and_numpy(braintools_mod: Any) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 9)) + rng.standard_normal((300, 1))
    ours = functional_connectivity(x)
    ref = np.asarray(braintools_mod.metric.functional_connectivity(x))
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    np.testing.assert_allclose(ours, np.corrcoef(x, rowvar=False), atol=1e-12)
    assert ours.shape == (9, 9) and ours.dtype == np.float64


def test_fc_constant_column_like_braintools(braintools_mod: Any) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((100, 5))
    x[:, 2] = 4.0
    ours = functional_connectivity(x)
    ref = np.asarray(braintools_mod.metric.functional_connectivity(x))
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(np.diag(ours), 1.0)
    assert np.all(ours[2, np.arange(5) != 2] == 0)


# ---------------------------------------------------------------------------
# good sources


def _check_loaded(ds: Dataset, arrs: dict[str, Any], n: int, scans: int, t: int) -> None:
    assert ds.n_nodes == n and ds.n_scans == scans and ds.n_timepoints == t
    c = np.array(arrs["Cmat"], dtype=np.float64)
    np.fill_diagonal(c, 0)
    np.testing.assert_array_equal(ds.cmat, c)
    d = np.array(arrs["Dmat"], dtype=np.float64)
    np.fill_diagonal(d, 0)
    np.testing.assert_array_equal(ds.dmat, d)
    np.testing.assert_allclose(ds.target_fc, expected_fc(list(arrs["BOLDs"])), atol=1e-12)


def test_msgpack_braintools_saved_list(tmp_path: Path, braintools_mod: Any) -> None:
    """A file written by braintools.file.msgpack_save (the list comes back as a dict '0','1',…)."""
    arrs = make_arrays(n=12, scans=3, t=150)
    path = tmp_path / "bt_list.msgpack"
    braintools_mod.file.msgpack_save(str(path), dict(arrs))
    assert isinstance(braintools_mod.file.msgpack_load(str(path))["BOLDs"], dict)
    ds = load_dataset(path)
    _check_loaded(ds, arrs, 12, 3, 150)
    assert ds.name == "bt_list" and ds.source == str(path)


def test_msgpack_braintools_saved_stacked(tmp_path: Path, braintools_mod: Any) -> None:
    arrs = make_arrays(n=6, scans=2, t=50)
    path = tmp_path / "bt_stacked.msgpack"
    braintools_mod.file.msgpack_save(str(path), {**arrs, "BOLDs": np.stack(arrs["BOLDs"])})
    _check_loaded(load_dataset(path), arrs, 6, 2, 50)


@pytest.mark.parametrize("layout", ["list", "stacked", "single", "dict", "dict_shuffled"])
def test_msgpack_layouts(tmp_path: Path, layout: str) -> None:
    arrs = make_arrays(n=12, scans=1 if layout == "single" else 4, t=80, seed=3)
    bolds = arrs["BOLDs"]
    stored: Any = {
        "list": lambda: bolds,
        "stacked": lambda: np.stack(bolds),
        "single": lambda: bolds[0],
        "dict": lambda: {str(i): b for i, b in enumerate(bolds)},
        "dict_shuffled": lambda: {str(i): bolds[i] for i in (2, 0, 3, 1)},
    }[layout]()
    path = write_msgpack(tmp_path / f"{layout}.msgpack", {**arrs, "BOLDs": stored})
    _check_loaded(load_dataset(str(path)), arrs, 12, len(bolds), 80)


def test_bold_dict_ordered_by_int_key() -> None:
    scans = {str(i): np.full((2, 3), i) for i in (10, 2, 0, 1)}
    out = checks_mod.bold_scans(scans, path=Path("x.msgpack"))
    assert [int(s[0, 0]) for s in out] == [0, 1, 2, 10]


def test_npz_stacked_and_single(tmp_path: Path) -> None:
    arrs = make_arrays(n=12, scans=3, t=60, seed=4)
    p1 = tmp_path / "stacked.npz"
    np.savez(p1, Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], BOLDs=np.stack(arrs["BOLDs"]))
    ds = load_dataset(p1)
    _check_loaded(ds, arrs, 12, 3, 60)
    assert ds.name == "stacked"
    p2 = tmp_path / "single.npz"
    np.savez_compressed(p2, Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], BOLDs=arrs["BOLDs"][0])
    _check_loaded(load_dataset(p2), {**arrs, "BOLDs": arrs["BOLDs"][:1]}, 12, 1, 60)


def test_npz_precomputed_fc(tmp_path: Path) -> None:
    arrs = make_arrays(n=5, scans=2, t=40, seed=5)
    fc = expected_fc(arrs["BOLDs"])
    path = tmp_path / "fc.npz"
    np.savez(path, Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], FC=fc)
    ds = load_dataset(path)
    assert ds.n_nodes == 5 and ds.n_scans == 0 and ds.n_timepoints == 0
    np.testing.assert_array_equal(ds.target_fc, fc)
    assert np.all(np.diag(ds.cmat) == 0)


def test_other_n_and_input_not_aliased(tmp_path: Path) -> None:
    arrs = make_arrays(n=12, scans=2, t=100, seed=6)
    path = tmp_path / "n12.npz"
    np.savez(path, Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], BOLDs=np.stack(arrs["BOLDs"]))
    ds = load_dataset(path)
    assert ds.n_nodes == 12 and ds.target_fc.shape == (12, 12)
    assert arrs["Cmat"][0, 0] == 0.7  # caller's array untouched
    iu = np.triu_indices(12, 1)
    assert np.all(np.abs(ds.target_fc[iu]) < 1)


def test_home_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrs = make_arrays(n=4, scans=1, t=20, seed=7)
    np.savez(tmp_path / "h.npz", Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], BOLDs=arrs["BOLDs"][0])
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_dataset("~/h.npz").n_nodes == 4


# ---------------------------------------------------------------------------
# bad files


def _valid() -> dict[str, Any]:
    return make_arrays(n=6, scans=2, t=30, seed=8)


def _bad_cases() -> list[tuple[str, Any, tuple[str, ...]]]:
    """(id, how to mutate the valid dict or a raw object, message parts)."""
    v = _valid

    def with_(**kw: Any) -> dict[str, Any]:
        d = v()
        d.update(kw)
        return d

    def without(key: str) -> dict[str, Any]:
        d = v()
        del d[key]
        return d

    def nan_in(key: str, val: float) -> dict[str, Any]:
        d = v()
        if key == "BOLDs":
            d["BOLDs"][1] = d["BOLDs"][1].copy()
            d["BOLDs"][1][2, 5] = val
        else:
            d[key] = d[key].copy()
            d[key][1, 2] = val
        return d

    def constant_region() -> dict[str, Any]:
        d = v()
        d["BOLDs"][1] = d["BOLDs"][1].copy()
        d["BOLDs"][1][3, :] = 42.0
        return d

    def fc(shape: tuple[int, ...], bad: float | None = None) -> dict[str, Any]:
        d = without("BOLDs")
        f = np.eye(*shape[:2]) if len(shape) == 2 else np.zeros(shape)
        if bad is not None:
            f[0, 1] = bad
        d["FC"] = f
        return d

    six = np.ones((6, 6))
    return [
        ("top_level_list", [1, 2, 3], ("top level", "map")),
        ("top_level_int", 7, ("top level", "map")),
        ("missing_cmat", without("Cmat"), ("missing key 'Cmat'", "Dmat", "BOLDs")),
        ("missing_dmat", without("Dmat"), ("missing key 'Dmat'", "Cmat")),
        ("missing_bolds", without("BOLDs"), ("missing key 'BOLDs'", "FC", "Cmat, Dmat")),
        ("cmat_1d", with_(Cmat=np.ones(6)), ("Cmat", "square", "(6,)")),
        ("cmat_not_square", with_(Cmat=np.ones((6, 5))), ("Cmat", "square", "(6, 5)")),
        ("dmat_3d", with_(Dmat=np.ones((2, 6, 6))), ("Dmat", "square")),
        ("cmat_text", with_(Cmat="abc"), ("Cmat", "not a numeric array")),
        ("cmat_dmat_differ", with_(Dmat=np.ones((5, 5))), ("Cmat is 6×6", "Dmat is 5×5")),
        ("n_lt_2", with_(Cmat=np.zeros((1, 1)), Dmat=np.zeros((1, 1)), BOLDs=[np.arange(10.0)[None]]),
         ("at least 2 regions",)),
        ("bold_rows_ne_n", with_(BOLDs=[np.random.default_rng(0).random((5, 30))]),
         ("BOLD has 5 regions", "Cmat is 6×6")),
        ("bold_transposed", with_(BOLDs=[np.random.default_rng(0).random((30, 6))]),
         ("BOLD has 30 regions", "transposed")),
        ("bold_scans_differ", with_(BOLDs=[np.random.default_rng(0).random((6, 30)),
                                           np.random.default_rng(1).random((7, 30))]),
         ("different numbers of regions", "scan 1 has 7")),
        ("bold_1d_scan", with_(BOLDs=[np.arange(30.0)]), ("BOLD scan 0", "2-D")),
        ("bold_4d", with_(BOLDs=np.zeros((1, 2, 6, 30))), ("BOLDs", "shape (1, 2, 6, 30)")),
        ("bold_empty", with_(BOLDs=[]), ("no scans",)),
        ("bold_text", with_(BOLDs="abc"), ("BOLDs", "not an array")),
        ("bold_scalar", with_(BOLDs=3.0), ("BOLDs", "not an array")),
        ("bold_dict_bad_keys", with_(BOLDs={"a": np.ones((6, 30))}), ("BOLDs", "scan numbers")),
        ("bold_too_short", with_(BOLDs=[np.random.default_rng(0).random((6, 2))]),
         ("BOLD scan 0", "2 time points", "at least 3")),
        ("constant_region", constant_region(), ("region 3", "BOLD scan 1", "constant")),
        ("nan_cmat", nan_in("Cmat", np.nan), ("Cmat", "1 NaN")),
        ("inf_dmat", nan_in("Dmat", np.inf), ("Dmat", "1 inf")),
        ("nan_bold", nan_in("BOLDs", np.nan), ("BOLD scan 1", "NaN")),
        ("neg_cmat", nan_in("Cmat", -0.5), ("Cmat", "negative weights")),
        ("neg_dmat", nan_in("Dmat", -3.0), ("Dmat", "negative lengths")),
        ("fc_wrong_shape", fc((5, 5)), ("FC must be 6×6", "(5, 5)")),
        ("fc_1d", fc((6,)), ("FC must be 6×6",)),
        ("fc_nan", fc((6, 6), np.nan), ("FC", "NaN")),
        ("ok_control", {"Cmat": six, "Dmat": six, "FC": np.eye(6)}, ()),
    ]


BAD_CASES = _bad_cases()


def _npz_arrays(obj: Any) -> dict[str, Any] | None:
    """The same contents as npz arrays, or None when an npz cannot hold them."""
    if not isinstance(obj, dict):
        return None
    stored = {}
    for k, val in obj.items():
        if k == "BOLDs" and isinstance(val, list):
            if not val or len({np.shape(b) for b in val}) != 1 or np.ndim(val[0]) != 2:
                return None
            val = np.stack(val)
        if isinstance(val, dict):
            return None
        stored[k] = val
    return stored


NPZ_CASES = [c for c in BAD_CASES if _npz_arrays(c[1]) is not None]


def _expect_bad(path: Path, case_id: str, parts: tuple[str, ...]) -> None:
    if case_id == "ok_control":
        assert load_dataset(path).n_nodes == 6
        return
    with pytest.raises(DataError) as err:
        load_dataset(path)
    assert_one_line(err, path.name, *parts)


@pytest.mark.parametrize("case_id,obj,parts", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_contents_msgpack(tmp_path: Path, case_id: str, obj: Any, parts: tuple[str, ...]) -> None:
    path = write_msgpack(tmp_path / f"{case_id}.msgpack", obj)
    _expect_bad(path, case_id, parts)


@pytest.mark.parametrize("case_id,obj,parts", NPZ_CASES, ids=[c[0] for c in NPZ_CASES])
def test_bad_contents_npz(tmp_path: Path, case_id: str, obj: Any, parts: tuple[str, ...]) -> None:
    path = tmp_path / f"{case_id}.npz"
    np.savez(path, **(_npz_arrays(obj) or {}))
    _expect_bad(path, case_id, parts)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "nope.msgpack")
    assert_one_line(err, "not found", "nope.msgpack")


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "dir.msgpack"
    d.mkdir()
    with pytest.raises(DataError) as err:
        load_dataset(d)
    assert_one_line(err, "directory", "dir.msgpack")


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "data.csv"
    p.write_text("1,2,3\n")
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "data.csv", "'.csv'", "unknown dataset format", ".msgpack", ".npz", ".mat", "folder")


@pytest.mark.parametrize(
    "name,content,parts",
    [
        ("empty.msgpack", b"", ("empty",)),
        ("text.msgpack", b"hello, this is not msgpack\n", ("not a msgpack file",)),
        ("junk.msgpack", bytes([0xC1]) * 8, ("not a valid msgpack",)),
        ("text.npz", b"not a zip archive at all", ("cannot read",)),
        ("empty.npz", b"", ("cannot read",)),
    ],
)
def test_corrupt_files(tmp_path: Path, name: str, content: bytes, parts: tuple[str, ...]) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", name, *parts)


def test_truncated_msgpack(tmp_path: Path) -> None:
    good = write_msgpack(tmp_path / "good.msgpack", _valid()).read_bytes()
    p = tmp_path / "cut.msgpack"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", "cut.msgpack", "truncated")


def test_truncated_npz(tmp_path: Path) -> None:
    v = _valid()
    good = tmp_path / "good.npz"
    np.savez(good, Cmat=v["Cmat"], Dmat=v["Dmat"], BOLDs=np.stack(v["BOLDs"]))
    p = tmp_path / "cut.npz"
    p.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", "cut.npz")


def test_bad_array_payload(tmp_path: Path) -> None:
    """An ndarray ext whose buffer does not fit its shape."""
    payload = msgpack.packb(((6, 6), "float64", b"\x00" * 10), use_bin_type=True)
    p = tmp_path / "badext.msgpack"
    p.write_bytes(msgpack.packb({"Cmat": msgpack.ExtType(1, payload)}))
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", "badext.msgpack")


def test_object_npz_rejected(tmp_path: Path) -> None:
    v = _valid()
    p = tmp_path / "obj.npz"
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = v["BOLDs"][0], v["BOLDs"][1][:, :10]
    np.savez(p, Cmat=v["Cmat"], Dmat=v["Dmat"], BOLDs=ragged)
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", "obj.npz")


def test_unexpected_error_becomes_dataerror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "ok.npz"
    v = _valid()
    np.savez(p, Cmat=v["Cmat"], Dmat=v["Dmat"], BOLDs=np.stack(v["BOLDs"]))

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("something odd\non two lines")

    monkeypatch.setattr(data_mod, "_build", boom)
    with pytest.raises(DataError) as err:
        load_dataset(p)
    assert_one_line(err, "cannot read", "ok.npz", "something odd on two lines")


# ---------------------------------------------------------------------------
# kaggle (offline: kagglehub.dataset_download is always monkeypatched)


@pytest.fixture
def kagglehub_mod() -> Any:
    import kagglehub  # a hard dependency: a broken install fails here rather than skipping

    return kagglehub


def test_kaggle_offline(monkeypatch: pytest.MonkeyPatch, kagglehub_mod: Any) -> None:
    import requests

    def fail(handle: str, *a: Any, **k: Any) -> str:
        raise requests.exceptions.ConnectionError("Max retries exceeded with url\n(Name resolution)")

    monkeypatch.setattr(kagglehub_mod, "dataset_download", fail)
    with pytest.raises(DataError) as err:
        load_dataset("kaggle:someone/hcp-data")
    assert_one_line(
        err, "could not download kaggle dataset someone/hcp-data", "ConnectionError",
        "offline or Kaggle is unreachable", "--data",
    )


def test_kaggle_loads_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kagglehub_mod: Any) -> None:
    arrs = make_arrays(n=12, scans=2, t=70, seed=9)
    dl = tmp_path / "download"
    dl.mkdir()
    write_msgpack(dl / "hcp-data-sample.msgpack", arrs)
    seen: list[str] = []

    def fake(handle: str, *a: Any, **k: Any) -> str:
        seen.append(handle)
        return str(dl)

    monkeypatch.setattr(kagglehub_mod, "dataset_download", fake)
    ds = load_dataset("kaggle:someone/hcp-data")
    assert seen == ["someone/hcp-data"]
    _check_loaded(ds, arrs, 12, 2, 70)
    assert ds.name == "hcp-data-sample"
    assert ds.source == "kaggle:someone/hcp-data/hcp-data-sample.msgpack"


def test_kaggle_explicit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kagglehub_mod: Any) -> None:
    arrs = make_arrays(n=5, scans=1, t=40, seed=10)
    dl = tmp_path / "download"
    (dl / "sub").mkdir(parents=True)
    np.savez(dl / "sub" / "mine.npz", Cmat=arrs["Cmat"], Dmat=arrs["Dmat"], BOLDs=arrs["BOLDs"][0])
    monkeypatch.setattr(kagglehub_mod, "dataset_download", lambda h, *a, **k: str(dl))
    assert load_dataset("kaggle:o/d/sub/mine.npz").n_nodes == 5
    assert load_dataset("kaggle:o/d/mine.npz").n_nodes == 5  # found by name in a sub-folder


def test_kaggle_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kagglehub_mod: Any) -> None:
    dl = tmp_path / "download"
    dl.mkdir()
    (dl / "other.csv").write_text("x")
    (dl / "readme.txt").write_text("x")
    monkeypatch.setattr(kagglehub_mod, "dataset_download", lambda h, *a, **k: str(dl))
    with pytest.raises(DataError) as err:
        load_dataset("kaggle:o/d")
    assert_one_line(err, "kaggle dataset o/d", "hcp-data-sample.msgpack", "other.csv", "readme.txt")


def test_kaggle_hang_times_out(monkeypatch: pytest.MonkeyPatch, kagglehub_mod: Any) -> None:
    release, entered, returned = threading.Event(), threading.Event(), threading.Event()

    def hang(handle: str, *a: Any, **k: Any) -> str:  # a download that never answers until the test lets it go
        entered.set()
        release.wait(600)
        returned.set()
        raise ConnectionError("released")

    monkeypatch.setattr(kagglehub_mod, "dataset_download", hang)
    monkeypatch.setenv("WCFIT_KAGGLE_TIMEOUT", "0.2")
    try:
        with pytest.raises(DataError) as err:
            load_dataset("kaggle:o/d")
        # the error came while the download still hung: load_dataset gave up on it, whatever the machine's speed
        assert entered.is_set() and not returned.is_set()
    finally:
        release.set()
    assert_one_line(err, "could not download kaggle dataset o/d", "0.2 s", "--data")


def test_kaggle_timeout_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WCFIT_KAGGLE_TIMEOUT", raising=False)
    assert kaggle_mod.kaggle_timeout() == 60
    for bad in ("abc", "-1", "0"):
        monkeypatch.setenv("WCFIT_KAGGLE_TIMEOUT", bad)
        assert kaggle_mod.kaggle_timeout() == 60
    monkeypatch.setenv("WCFIT_KAGGLE_TIMEOUT", "2.5")
    assert kaggle_mod.kaggle_timeout() == 2.5


@pytest.mark.parametrize("spec", ["kaggle:", "kaggle:onlyowner", "kaggle:/x"])
def test_kaggle_bad_spec(spec: str) -> None:
    with pytest.raises(DataError) as err:
        load_dataset(spec)
    assert_one_line(err, "kaggle:OWNER/DATASET")

