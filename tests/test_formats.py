"""The dataset formats users already have: MATLAB .mat, a folder (or .zip) of tables, a TVB connectivity.

Every file here is written by the test itself (scipy.io.savemat, plain text, zipfile), independently of
the readers, and the loaded arrays are compared with numpy float64 references.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import scipy.io
import scipy.sparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.data.dataset import DataError, Dataset, load_dataset  # noqa: E402
from tests.support import make_raw as make, matrix_text, table_text, write_folder  # noqa: E402

# ---------------------------------------------------------------------------
# writers (independent of engine.data.formats)


def expected_fc(bolds: list[np.ndarray]) -> np.ndarray:
    return np.mean([np.corrcoef(np.asarray(b, dtype=np.float64)) for b in bolds], axis=0)


def assert_same(ds: Dataset, ref: dict[str, Any], *, labels: bool = True, tr: bool = True) -> None:
    np.testing.assert_array_equal(ds.cmat, ref["Cmat"])
    np.testing.assert_array_equal(ds.dmat, ref["Dmat"])
    assert len(ds.scans) == len(ref["BOLDs"])
    for got, want in zip(ds.scans, ref["BOLDs"]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(ds.target_fc, expected_fc(ref["BOLDs"]), atol=1e-12)
    assert ds.labels == (tuple(ref["labels"]) if labels else None)
    assert ds.tr_s == (ref["TR"] if tr else None)


def one_line(fn: Callable[[], Any], *parts: str) -> str:
    """fn raises a DataError whose message is one line holding every part (case-insensitive)."""
    with pytest.raises(DataError) as err:
        fn()
    msg = str(err.value)
    assert msg and "\n" not in msg and msg == msg.strip()
    for part in parts:
        assert part.lower() in msg.lower(), (part, msg)
    return msg


# ---------------------------------------------------------------------------
# the bundled data written out in every format loads identically


@pytest.fixture(scope="module")
def bundled_everywhere(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, Any], dict[str, Path]]:
    """The bundled dataset with labels, written as .mat (stacked and cell), a folder, a TVB-zip folder and a .zip."""
    ds = load_dataset()
    root = tmp_path_factory.mktemp("bundled")
    ref = {"Cmat": ds.cmat, "Dmat": ds.dmat, "BOLDs": list(ds.scans), "TR": ds.tr_s,
           "labels": [f"AAL2_{i:02d}" for i in range(ds.n_nodes)]}
    paths: dict[str, Path] = {}
    paths["mat"] = root / "hcp.mat"
    scipy.io.savemat(paths["mat"], {"Cmat": ds.cmat, "Dmat": ds.dmat, "BOLDs": np.stack(ds.scans), "TR": ds.tr_s,
                                    "labels": np.array(ref["labels"], dtype=object)})
    cells = np.empty((1, len(ds.scans)), dtype=object)
    for k, s in enumerate(ds.scans):
        cells[0, k] = s
    paths["mat_cells"] = root / "hcp_cells.mat"
    scipy.io.savemat(paths["mat_cells"], {"Cmat": ds.cmat, "Dmat": ds.dmat, "BOLDs": cells, "TR": ds.tr_s,
                                          "labels": np.array(ref["labels"])})  # a char matrix
    paths["folder"] = write_folder(root / "folder", ref, sidecar={"TR": ds.tr_s, "labels": ref["labels"]})
    paths["tvb"] = write_folder(root / "tvb", ref, structure="zip", centres=True, sidecar={"TR": ds.tr_s})
    paths["zip"] = root / "hcp.zip"
    with zipfile.ZipFile(paths["zip"], "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(paths["folder"].iterdir()):
            z.write(f, f"hcp/{f.name}")
    return ds, ref, paths


@pytest.mark.parametrize("fmt", ["mat", "mat_cells", "folder", "tvb", "zip"])
def test_bundled_data_in_every_format_loads_identically(bundled_everywhere: Any, fmt: str) -> None:
    ds, ref, paths = bundled_everywhere
    got = load_dataset(paths[fmt])
    assert_same(got, ref)
    np.testing.assert_array_equal(got.target_fc, ds.target_fc)  # exactly the msgpack's target
    assert (got.n_nodes, got.n_scans, got.n_timepoints) == (80, 7, 1200)
    assert got.name == {"mat": "hcp", "mat_cells": "hcp_cells", "folder": "folder", "tvb": "tvb", "zip": "hcp"}[fmt]


# ---------------------------------------------------------------------------
# folders


def test_folder_csv_without_sidecar_takes_labels_from_the_header(tmp_path: Path) -> None:
    ref = make(n=4, scans=2, t=30, seed=1)
    path = write_folder(tmp_path / "d", ref, structure="csv", series="csv")
    assert_same(load_dataset(path), ref, tr=False)
    assert load_dataset(str(path) + "/").n_nodes == 4  # a trailing slash is the same folder


def test_folder_columns_in_another_order_are_put_in_label_order(tmp_path: Path) -> None:
    ref = make(n=5, scans=2, t=30, seed=2)
    path = write_folder(tmp_path / "d", ref, centres=True)
    perm = [3, 0, 4, 1, 2]
    (path / "sub-02_timeseries.tsv").write_text(
        table_text([ref["labels"][i] for i in perm], ref["BOLDs"][1][perm]))
    assert_same(load_dataset(path), ref, tr=False)


def test_folder_scans_sorted_by_file_name_and_index_column_dropped(tmp_path: Path) -> None:
    ref = make(n=3, scans=2, t=20, seed=3)
    path = write_folder(tmp_path / "d", ref, structure="csv", series="csv", sidecar={"RepetitionTime": 2.0})
    # pandas' DataFrame.to_csv() writes an unnamed index column first
    bold = ref["BOLDs"][0]
    (path / "sub-01_timeseries.csv").write_text(
        "," + ",".join(ref["labels"]) + "\n"
        + "".join(f"{t}," + ",".join(repr(float(x)) for x in bold[:, t]) + "\n" for t in range(bold.shape[1])))
    ds = load_dataset(path)
    assert_same(ds, ref)
    np.testing.assert_array_equal(ds.scans[0], ref["BOLDs"][0])


def test_folder_with_tvb_files_loose_and_centres(tmp_path: Path) -> None:
    ref = make(n=4, scans=1, t=25, seed=4)
    path = write_folder(tmp_path / "d", {**ref, "labels": ref["labels"]}, centres=True, sidecar={"TR": 2})
    assert_same(load_dataset(path), ref)


def test_sidecar_labels_take_precedence_over_centres(tmp_path: Path) -> None:
    ref = make(n=3, scans=1, t=25, seed=5)
    path = write_folder(tmp_path / "d", ref, structure="zip", centres=True)
    names = ["left", "mid", "right"]
    (path / "dataset.json").write_text(json.dumps({"TR": 2.0, "labels": names}))
    (path / "sub-01_timeseries.tsv").write_text(table_text(names, ref["BOLDs"][0]))
    assert load_dataset(path).labels == tuple(names)


def test_zip_of_a_dataset_folder_and_bare_tvb_zip(tmp_path: Path) -> None:
    ref = make(n=4, scans=2, t=25, seed=6)
    folder = write_folder(tmp_path / "d", ref, sidecar={"TR": 2.0, "labels": ref["labels"]})
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
        z.writestr("__MACOSX/._weights.txt", "junk")
    ds = load_dataset(archive)
    assert_same(ds, ref)
    assert ds.name == "d" and ds.source == str(archive)
    bare = write_folder(tmp_path / "conn", ref, structure="zip", centres=True) / "connectivity_5.zip"
    one_line(lambda: load_dataset(bare), "connectivity_5.zip", "no time series", "structure only")


def test_error_names_the_subject_file(tmp_path: Path) -> None:
    ref = make(n=4, scans=3, t=25, seed=7)
    path = write_folder(tmp_path / "d", ref)
    bold = ref["BOLDs"][1].copy()
    bold[2] = 7.0
    (path / "sub-02_timeseries.tsv").write_text(table_text(ref["labels"], bold))
    one_line(lambda: load_dataset(path), "region 2", "BOLD scan 1 (sub-02_timeseries.tsv)", "constant")
    (path / "sub-02_timeseries.tsv").write_text(table_text(ref["labels"], ref["BOLDs"][1]).replace(
        repr(float(ref["BOLDs"][1][0, 3])), "nan", 1))
    one_line(lambda: load_dataset(path), "BOLD scan 1 (sub-02_timeseries.tsv)", "1 NaN")


def _folder_case(tmp_path: Path, case: str) -> tuple[Path, tuple[str, ...]]:
    """Build one malformed folder; return it and what its one-line message must say."""
    ref = make(n=4, scans=2, t=20, seed=8)
    labels = ref["labels"]
    d = tmp_path / case
    tsv = lambda k=1: d / f"sub-{k:02d}_timeseries.tsv"  # noqa: E731
    if case == "empty":
        d.mkdir()
        return d, ("directory", "is empty", "weights")
    if case == "only_hidden":
        d.mkdir()
        (d / ".DS_Store").write_text("x")
        return d, ("is empty",)
    write_folder(d, ref, sidecar={"TR": 2.0})
    data = table_text(labels, ref["BOLDs"][0])
    if case == "no_structure":
        (d / "weights.txt").unlink()
        (d / "tract_lengths.txt").unlink()
        return d, ("no structural connectivity", "weights", "tract_lengths")
    if case == "weights_without_lengths":
        (d / "tract_lengths.txt").unlink()
        return d, ("weights.txt", "no tract_lengths")
    if case == "weights_twice":
        (d / "weights.csv").write_text(matrix_text(ref["Cmat"], ","))
        return d, ("both weights.txt and weights.csv", "keep one")
    if case == "zip_and_weights":
        with zipfile.ZipFile(d / "conn.zip", "w") as z:
            z.writestr("weights.txt", "1 0\n0 1\n")
        return d, ("conn.zip", "keep one")
    if case == "zip_without_weights":
        (d / "weights.txt").unlink()
        (d / "tract_lengths.txt").unlink()
        with zipfile.ZipFile(d / "conn.zip", "w") as z:
            z.writestr("tract_lengths.txt", matrix_text(ref["Dmat"]))
            z.writestr("centres.txt", "a 0 0 0\n")
        return d, ("conn.zip", "weights.txt", "missing", "tract_lengths.txt")
    if case == "two_zips":
        (d / "weights.txt").unlink()
        (d / "tract_lengths.txt").unlink()
        for name in ("a.zip", "b.zip"):
            with zipfile.ZipFile(d / name, "w") as z:
                z.writestr("weights.txt", matrix_text(ref["Cmat"]))
        return d, ("several .zip", "a.zip, b.zip")
    if case == "corrupt_zip":
        (d / "weights.txt").unlink()
        (d / "tract_lengths.txt").unlink()
        (d / "conn.zip").write_bytes(b"PK\x03\x04 definitely not a zip")
        return d, ("conn.zip", "not a valid .zip")
    if case == "no_series":
        for f in d.glob("*.tsv"):
            f.unlink()
        return d, ("no time series", ".tsv or .csv")
    if case == "ragged":
        lines = data.splitlines()
        lines[4] = "\t".join(lines[4].split("\t")[:2])
        tsv().write_text("\n".join(lines) + "\n")
        return d, ("sub-01_timeseries.tsv", "line 5 has 2 cells", "header", "has 4")
    if case == "non_numeric":
        lines = data.splitlines()
        cells = lines[3].split("\t")
        cells[2] = "abc"
        lines[3] = "\t".join(cells)
        tsv().write_text("\n".join(lines) + "\n")
        return d, ("sub-01_timeseries.tsv", "line 4", "'ROI_2'", "'abc' is not a number")
    if case == "empty_cell":
        lines = data.splitlines()
        cells = lines[2].split("\t")
        cells[0] = ""
        lines[2] = "\t".join(cells)
        tsv().write_text("\n".join(lines) + "\n")
        return d, ("sub-01_timeseries.tsv", "line 3", "'ROI_0'", "empty cell")
    if case == "header_count_vs_weights":
        for k in (1, 2):
            tsv(k).write_text(table_text(labels[:3], ref["BOLDs"][k - 1][:3]))
        return d, ("sub-01_timeseries.tsv", "3 regions", "weights.txt is 4×4")
    if case == "header_names_vs_centres":
        (d / "centres.txt").write_text("".join(f"{x} 0 0 0\n" for x in ["A", "B", "C", "D"]))
        return d, ("sub-01_timeseries.tsv", "'ROI_0'", "not among the labels", "centres.txt")
    if case == "header_count_vs_json_labels":
        (d / "dataset.json").write_text(json.dumps({"TR": 2.0, "labels": labels}))
        tsv(2).write_text(table_text(labels[:3], ref["BOLDs"][1][:3]))
        return d, ("sub-02_timeseries.tsv", "3 regions", "dataset.json has 4")
    if case == "mixed_region_counts":
        tsv(2).write_text(table_text(labels[:3], ref["BOLDs"][1][:3]))
        return d, ("sub-02_timeseries.tsv", "3 regions", "sub-01_timeseries.tsv has 4")
    if case == "mixed_region_names":
        tsv(2).write_text(table_text(labels[:3] + ["other"], ref["BOLDs"][1]))
        return d, ("sub-02_timeseries.tsv", "'other'", "not among the labels of", "sub-01_timeseries.tsv")
    if case == "duplicate_header":
        tsv().write_text(table_text([labels[0], labels[0], labels[2], labels[3]], ref["BOLDs"][0]))
        return d, ("sub-01_timeseries.tsv", "'ROI_0' appears twice")
    if case == "no_header":
        tsv().write_text("".join("\t".join(repr(float(x)) for x in row) + "\n" for row in ref["BOLDs"][0].T))
        return d, ("sub-01_timeseries.tsv", "not region names", "header")
    if case == "header_only":
        tsv().write_text("\t".join(labels) + "\n")
        return d, ("sub-01_timeseries.tsv", "not followed by any samples")
    if case == "empty_table":
        tsv().write_text("\n\n")
        return d, ("sub-01_timeseries.tsv", "empty")
    if case == "wrong_separator":
        tsv().unlink()
        (d / "sub-01_timeseries.csv").write_text(data)
        return d, ("sub-01_timeseries.csv", "one column", "tab-separated")
    if case == "not_utf8":
        tsv().write_bytes(b"\xff\xfe\x00a\tb\n")
        return d, ("sub-01_timeseries.tsv", "not UTF-8")
    if case == "weights_not_square":
        (d / "weights.txt").write_text(matrix_text(ref["Cmat"][:, :3]))
        return d, ("weights.txt", "square", "4×3")
    if case == "weights_ragged":
        (d / "weights.txt").write_text("0 1 1 1\n1 0 1\n1 1 0 1\n1 1 1 0\n")
        return d, ("weights.txt", "line 2 has 3 numbers", "line 1 has 4")
    if case == "weights_text":
        (d / "weights.txt").write_text("0 1 1 1\n1 0 x 1\n1 1 0 1\n1 1 1 0\n")
        return d, ("weights.txt", "line 2, column 3", "'x' is not a number")
    if case == "lengths_shape":
        (d / "tract_lengths.txt").write_text(matrix_text(ref["Dmat"][:3, :3]))
        return d, ("tract lengths are 3×3", "weights are 4×4")
    if case == "centres_count":
        (d / "centres.txt").write_text("a 0 0 0\nb 0 0 0\n")
        return d, ("centres.txt", "2 regions", "weights.txt has 4")
    if case == "negative_weight":
        c = ref["Cmat"].copy()
        c[0, 1] = -1
        (d / "weights.txt").write_text(matrix_text(c))
        return d, ("weights.txt", "1 negative values", "min -1")
    if case == "nan_length":
        (d / "tract_lengths.txt").write_text(matrix_text(ref["Dmat"]).replace(repr(float(ref["Dmat"][0, 1])), "nan", 1))
        return d, ("tract_lengths.txt", "1 values are NaN or inf")
    sidecars: dict[str, tuple[str, tuple[str, ...]]] = {
        "json_invalid": ('{"TR": 0.72,', ("dataset.json", "not valid JSON", "line 1")),
        "json_not_object": ("[0.72]", ("dataset.json", "JSON object", "list")),
        "json_tr_negative": ('{"TR": -1}', ("dataset.json", "TR", "positive")),
        "json_tr_text": ('{"TR": "fast"}', ("dataset.json", "TR must be one number", "fast")),
        "json_tr_ms": ('{"TR": 720}', ("dataset.json", "implausible", "seconds")),
        "json_tr_bool": ('{"TR": true}', ("dataset.json", "TR must be one number")),
        "json_tr_list": ('{"TR": [0.72, 0.8]}', ("dataset.json", "TR must be one number")),
        "json_tr_lowercase": ('{"tr": 0.72}', ("dataset.json", "'tr'", "'TR'")),
        "json_tr_disagree": ('{"TR": 0.72, "RepetitionTime": 0.8}', ("dataset.json", "differ")),
        "json_labels_count": ('{"labels": ["a", "b"]}', ("dataset.json", "labels has 2 names", "4 regions")),
        "json_labels_type": ('{"labels": "a,b,c,d"}', ("dataset.json", "labels must be a list")),
        "json_labels_dup": ('{"labels": ["a", "b", "a", "c"]}', ("dataset.json", "'a' appears twice")),
    }
    text, parts = sidecars[case]
    (d / "dataset.json").write_text(text)
    return d, parts


FOLDER_CASES = [
    "empty", "only_hidden", "no_structure", "weights_without_lengths", "weights_twice", "zip_and_weights",
    "zip_without_weights", "two_zips", "corrupt_zip", "no_series", "ragged", "non_numeric", "empty_cell",
    "header_count_vs_weights", "header_names_vs_centres", "header_count_vs_json_labels", "mixed_region_counts",
    "mixed_region_names", "duplicate_header", "no_header", "header_only", "empty_table", "wrong_separator",
    "not_utf8", "weights_not_square", "weights_ragged", "weights_text", "lengths_shape", "centres_count",
    "negative_weight", "nan_length", "json_invalid", "json_not_object", "json_tr_negative", "json_tr_text", "json_tr_ms",
    "json_tr_bool", "json_tr_list", "json_tr_lowercase", "json_tr_disagree", "json_labels_count",
    "json_labels_type", "json_labels_dup",
]


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_malformed_folder_is_one_line(tmp_path: Path, case: str) -> None:
    path, parts = _folder_case(tmp_path, case)
    one_line(lambda: load_dataset(path), str(path), *parts)


def test_malformed_zip_dataset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    one_line(lambda: load_dataset(bad), "bad.zip", "not a valid .zip")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    one_line(lambda: load_dataset(empty), "empty.zip", "empty")
    twice = tmp_path / "twice.zip"
    with zipfile.ZipFile(twice, "w") as z:
        z.writestr("a/weights.txt", "0 1\n1 0\n")
        z.writestr("b/weights.txt", "0 1\n1 0\n")
    one_line(lambda: load_dataset(twice), "twice.zip", "two files named 'weights.txt'")
    ref = make(n=3, scans=1, t=10)
    folder = write_folder(tmp_path / "f", ref)
    ragged = tmp_path / "ragged.zip"
    with zipfile.ZipFile(ragged, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
        z.writestr("sub-02_timeseries.tsv", "ROI_0\tROI_1\tROI_2\n1\t2\n")
    one_line(lambda: load_dataset(ragged), "ragged.zip", "sub-02_timeseries.tsv", "line 2 has 2 cells")


# ---------------------------------------------------------------------------
# MATLAB


def test_mat_variants(tmp_path: Path) -> None:
    ref = make(n=4, scans=2, t=30, seed=9)
    p = tmp_path / "cellstr.mat"
    cells = np.empty((2, 1), dtype=object)  # a column cell array
    cells[0, 0], cells[1, 0] = ref["BOLDs"]
    labels = np.empty((1, 4), dtype=object)
    labels[0, :] = ref["labels"]
    scipy.io.savemat(p, {"Cmat": scipy.sparse.csr_matrix(ref["Cmat"]), "Dmat": ref["Dmat"].astype(np.float32),
                         "BOLDs": cells, "TR": np.array([[2.0]]), "labels": labels})
    ds = load_dataset(p)
    np.testing.assert_array_equal(ds.dmat, ref["Dmat"].astype(np.float32).astype(np.float64))
    assert_same(ds, {**ref, "Dmat": ds.dmat})
    # char-matrix labels of unequal length: MATLAB pads with blanks
    names = ["V1", "MT", "FEF", "PFCm"]
    p2 = tmp_path / "one_scan_fc.mat"
    fc = expected_fc(ref["BOLDs"])
    scipy.io.savemat(p2, {"Cmat": ref["Cmat"], "Dmat": ref["Dmat"], "FC": fc, "labels": np.array(names)})
    ds2 = load_dataset(p2)
    assert ds2.labels == tuple(names) and ds2.tr_s is None and ds2.n_scans == 0
    np.testing.assert_array_equal(ds2.target_fc, fc)
    p3 = tmp_path / "single.mat"
    scipy.io.savemat(p3, {"Cmat": ref["Cmat"], "Dmat": ref["Dmat"], "BOLDs": ref["BOLDs"][0]})
    ds3 = load_dataset(p3)
    assert ds3.n_scans == 1 and ds3.labels is None
    np.testing.assert_array_equal(ds3.scans[0], ref["BOLDs"][0])


def _v73_header() -> bytes:
    """The 128-byte header MATLAB writes before the HDF5 content of a v7.3 file."""
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 30 08:00:00 2026 HDF5 schema 1.00 ."
    return text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"


@pytest.mark.parametrize("case", [
    "no_variables", "no_bolds", "cmat_text", "bolds_4d", "bolds_cell_mixed_n", "labels_numeric", "labels_count",
    "tr_negative", "empty_file", "garbage", "short", "truncated", "v73",
])
def test_malformed_mat_is_one_line(tmp_path: Path, case: str) -> None:
    ref = make(n=4, scans=2, t=20, seed=10)
    p = tmp_path / f"{case}.mat"
    good = {"Cmat": ref["Cmat"], "Dmat": ref["Dmat"], "BOLDs": np.stack(ref["BOLDs"])}
    parts: tuple[str, ...]
    if case == "no_variables":
        scipy.io.savemat(p, {"SC": ref["Cmat"], "ts": good["BOLDs"]})
        parts = ("no variable Cmat", "Dmat", "variables: SC, ts", "needs Cmat, Dmat and BOLDs (or FC)")
    elif case == "no_bolds":
        scipy.io.savemat(p, {"Cmat": ref["Cmat"], "Dmat": ref["Dmat"]})
        parts = ("no variable BOLDs (or FC)",)
    elif case == "cmat_text":
        scipy.io.savemat(p, {**good, "Cmat": "not numbers"})
        parts = ("Cmat", "not a numeric array")
    elif case == "bolds_4d":
        scipy.io.savemat(p, {**good, "BOLDs": np.ones((2, 2, 4, 20))})
        parts = ("BOLDs", "shape (2, 2, 4, 20)")
    elif case == "bolds_cell_mixed_n":
        cells = np.empty((1, 2), dtype=object)
        cells[0, 0], cells[0, 1] = ref["BOLDs"][0], ref["BOLDs"][1][:3]
        scipy.io.savemat(p, {**good, "BOLDs": cells})
        parts = ("different numbers of regions", "scan 1 has 3")
    elif case == "labels_numeric":
        scipy.io.savemat(p, {**good, "labels": np.arange(4.0)})
        parts = ("labels must be a cell array of strings or a char matrix",)
    elif case == "labels_count":
        scipy.io.savemat(p, {**good, "labels": np.array(["a", "b"], dtype=object)})
        parts = ("labels has 2 names", "Cmat is 4×4")
    elif case == "tr_negative":
        scipy.io.savemat(p, {**good, "TR": -2.0})
        parts = ("TR must be a positive number",)
    elif case == "empty_file":
        p.write_bytes(b"")
        parts = ("cannot read", "empty")
    elif case == "garbage":
        p.write_bytes(b"this is no MATLAB file " * 20)
        parts = ("cannot read", "not a MATLAB .mat file")
    elif case == "short":
        p.write_bytes(b"MATLAB 5.0")
        parts = ("cannot read", "not a MATLAB .mat file")
    elif case == "truncated":
        whole = tmp_path / "whole.mat"
        scipy.io.savemat(whole, good)
        p.write_bytes(whole.read_bytes()[:-100])
        parts = ("cannot read", "truncated")
    else:
        p.write_bytes(_v73_header() + b"\x00" * 384 + b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
        parts = ("v7.3", "HDF5", "not supported without h5py", "'-v7'")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "h5py", None)  # as where h5py is not installed (it is no dependency)
        one_line(lambda: load_dataset(p), p.name, *parts)


def test_mat_v73_read_with_h5py_when_installed(tmp_path: Path) -> None:
    """A v7.3 file written by hdf5storage (MATLAB-compatible HDF5) loads like the v7 file of the same data."""
    if os.environ.get("CI"):  # the test extra installs both: in CI a missing one fails here instead of skipping
        import h5py  # noqa: F401
        import hdf5storage
    else:
        pytest.importorskip("h5py")
        hdf5storage = pytest.importorskip("hdf5storage")
    ref = make(n=4, scans=2, t=30, seed=11)
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0], cells[0, 1] = ref["BOLDs"]
    labels = np.empty((4, 1), dtype=object)
    labels[:, 0] = ref["labels"]
    v73, v7 = tmp_path / "v73.mat", tmp_path / "v7.mat"
    variables = {"Cmat": ref["Cmat"], "Dmat": ref["Dmat"], "BOLDs": cells, "TR": np.float64(2.0), "labels": labels}
    hdf5storage.savemat(str(v73), variables, format="7.3", matlab_compatible=True, store_python_metadata=False)
    scipy.io.savemat(v7, variables)
    assert v73.read_bytes()[:10] == b"MATLAB 7.3"
    got = load_dataset(v73)
    assert_same(got, ref)
    np.testing.assert_array_equal(got.target_fc, load_dataset(v7).target_fc)
    stacked = tmp_path / "stacked73.mat"
    hdf5storage.savemat(str(stacked), {**variables, "BOLDs": np.stack(ref["BOLDs"])}, format="7.3",
                        matlab_compatible=True, store_python_metadata=False)
    assert_same(load_dataset(stacked), ref)
    bad = tmp_path / "bad73.mat"
    bad.write_bytes(v73.read_bytes()[:1500])
    one_line(lambda: load_dataset(bad), "bad73.mat", "cannot read")
