"""A dataset folder (or a .zip of one): structure files, one time series table per subject, dataset.json.

Layout (file names are matched exactly, sub-folders are ignored):

- structure: ``weights.txt`` + ``tract_lengths.txt`` (TVB, whitespace-separated, optional ``centres.txt``
  whose first column gives the region labels), or ``weights.csv`` + ``tract_lengths.csv`` (comma-separated),
  or one TVB connectivity ``.zip`` holding those TVB files;
- time series: every other ``.tsv`` (tab-separated) or ``.csv`` (comma-separated) file is one subject's
  scan, taken in order of file name: a header row of region names, then one row per sample (T × N, as
  nilearn and fMRIPrep-based pipelines write them; a leading unnamed index column is dropped);
- ``dataset.json`` (optional): ``{"TR": seconds, "labels": [N names]}``; ``RepetitionTime`` (BIDS) is
  read as ``TR``.

Region labels come from dataset.json, else centres.txt, else the first table's header. Every table's
header must name the same regions; when labels are known, columns are put in the labels' order, so a table
whose columns are the same regions in another order is read correctly, and any other header is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.errors import DataError, check_tr
from engine.data.formats import Contents, Format
from engine.data.formats.tables import read_matrix, read_series
from engine.data.formats.tvb import Files, Structure, read_structure, zip_members
from engine.text import one_line

_STRUCTURE_NAMES = ("weights", "tract_lengths")
_SERIES_SUFFIXES = (".tsv", ".csv")
_SIDECAR = "dataset.json"
_EXPECTED = ("weights.{txt,csv} and tract_lengths.{txt,csv} (or a TVB connectivity .zip) "
             "and one .tsv/.csv time series per subject")


def read_folder(path: Path) -> Contents:
    """Read a dataset folder."""
    try:
        entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise DataError(f"cannot read dataset directory {path}: {one_line(exc.strerror or exc)}") from None
    if not entries:
        raise DataError(f"dataset directory {path} is empty: expected {_EXPECTED}")
    files = {p.name: _file_reader(p) for p in entries}
    return _read_tree(files, where=f"dataset directory {path}", prefix=f"{path}/")


def read_zip(path: Path) -> Contents:
    """Read a .zip holding a dataset folder's files (a bare TVB connectivity has no time series: an error)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {one_line(exc.strerror or exc)}") from None
    files = zip_members(str(path), data)
    if not files:
        raise DataError(f"{path}: the archive is empty: expected {_EXPECTED}")
    return _read_tree(files, where=str(path), prefix=f"{path}: ")


def _file_reader(path: Path) -> Any:
    def read() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read {path}: {one_line(exc.strerror or exc)}") from None
    return read


def _one_of(files: Files, stem: str, where: str) -> str | None:
    """The single file named stem.txt or stem.csv, or None; both is ambiguous."""
    found = [f"{stem}{ext}" for ext in (".txt", ".csv") if f"{stem}{ext}" in files]
    if len(found) > 1:
        raise DataError(f"{where}: both {found[0]} and {found[1]}; keep one")
    return found[0] if found else None


def _structure(files: Files, where: str, prefix: str) -> Structure:
    """The structural connectivity: loose weights/tract_lengths files or one TVB .zip."""
    weights, lengths = _one_of(files, "weights", where), _one_of(files, "tract_lengths", where)
    zips = sorted(n for n in files if n.lower().endswith(".zip"))
    if weights or lengths:
        if zips:
            raise DataError(f"{where}: holds both {weights or lengths} and {zips[0]}; "
                            "keep one structural connectivity")
        if not (weights and lengths):
            have, need = (weights, "tract_lengths") if weights else (lengths, "weights")
            raise DataError(f"{where}: has {have} but no {need}.txt or {need}.csv")
        if weights.endswith(".txt") and lengths.endswith(".txt"):
            return read_structure(files, where, prefix)
        w = read_matrix(files[weights](), prefix + weights, delimiter=_delimiter(weights))
        d = read_matrix(files[lengths](), prefix + lengths, delimiter=_delimiter(lengths))
        return Structure(weights=w, lengths=d, labels=None, labels_from=None, where=where)
    if len(zips) > 1:
        raise DataError(f"{where}: several .zip files ({', '.join(zips)}); keep one TVB connectivity")
    if not zips:
        raise DataError(f"{where}: no structural connectivity: expected weights.{{txt,csv}} and "
                        "tract_lengths.{txt,csv}, or a TVB connectivity .zip")
    inner = zip_members(prefix + zips[0], files[zips[0]]())
    return read_structure(inner, prefix + zips[0], f"{prefix}{zips[0]}: ")


def _delimiter(name: str) -> str | None:
    return "," if name.endswith(".csv") else None


def _sidecar(files: Files, prefix: str, n: int, n_from: str) -> tuple[float | None, tuple[str, ...] | None]:
    """TR and labels from dataset.json, each None when absent."""
    if _SIDECAR not in files:
        return None, None
    where = prefix + _SIDECAR
    try:
        info = json.loads(files[_SIDECAR]().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not UTF-8 text ({one_line(exc)})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(info, dict):
        raise DataError(f"{where}: must be a JSON object such as {{\"TR\": 0.72, \"labels\": [...]}}, "
                        f"got a {type(info).__name__}")
    for key in info:
        if key != "TR" and key.lower() in ("tr", "repetition_time"):
            raise DataError(f"{where}: unknown key {key!r}; the repetition time is 'TR' (seconds)")
    if "TR" in info and "RepetitionTime" in info and info["TR"] != info["RepetitionTime"]:
        raise DataError(f"{where}: TR ({info['TR']!r}) and RepetitionTime ({info['RepetitionTime']!r}) differ")
    raw_tr = info.get("TR", info.get("RepetitionTime"))
    if isinstance(raw_tr, bool) or isinstance(raw_tr, (list, dict)):
        raise DataError(f"{where}: TR must be one number of seconds, got {raw_tr!r}")
    tr = None if raw_tr is None else check_tr(raw_tr, where)
    labels = info.get("labels")
    if labels is not None:
        if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() for x in labels):
            raise DataError(f"{where}: labels must be a list of {n} non-empty region names")
        if len(labels) != n:
            raise DataError(f"{where}: labels has {len(labels)} names but {n_from} has {n} regions")
        labels = tuple(x.strip() for x in labels)
        if len(set(labels)) != n:
            dup = next(x for x in labels if labels.count(x) > 1)
            raise DataError(f"{where}: region {dup!r} appears twice in labels")
    return tr, labels


def _match_columns(names: tuple[str, ...], series: np.ndarray, labels: tuple[str, ...], where: str,
                   labels_from: str) -> np.ndarray:
    """Rows of an N×T series put in the labels' order, or a DataError when the names differ."""
    if names == labels:
        return series
    if len(names) != len(labels):
        raise DataError(f"{where}: the header names {len(names)} regions but {labels_from} has {len(labels)}")
    unknown = [x for x in names if x not in set(labels)]
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise DataError(f"{where}: header region {unknown[0]!r}{more} is not among the labels of {labels_from}")
    index = {x: i for i, x in enumerate(names)}
    return series[[index[x] for x in labels]]


def _read_tree(files: Files, *, where: str, prefix: str) -> Contents:
    """Structure, sidecar and every time series table of one folder's files."""
    structure = _structure(files, where, prefix)
    w, d = structure.weights, structure.lengths
    w_name, d_name = (next((prefix + f"{stem}{e}" for e in (".txt", ".csv") if f"{stem}{e}" in files),
                           f"{structure.where}: {stem}.txt") for stem in _STRUCTURE_NAMES)
    for m, m_name in ((w, w_name), (d, d_name)):
        bad = int(np.sum(~np.isfinite(m)))
        if bad:
            raise DataError(f"{m_name}: {bad} values are NaN or inf")
        if np.any(m < 0):
            raise DataError(f"{m_name}: {int(np.sum(m < 0))} negative values (min {m.min():.4g})")
    if w.shape[0] != w.shape[1]:
        raise DataError(f"{w_name}: must be a square matrix, got {w.shape[0]}×{w.shape[1]}")
    if d.shape != w.shape:
        raise DataError(f"{where}: tract lengths are {d.shape[0]}×{d.shape[1]} but weights are "
                        f"{w.shape[0]}×{w.shape[1]}")
    n = w.shape[0]
    tr, labels = _sidecar(files, prefix, n, w_name)
    labels_from = prefix + _SIDECAR if labels else structure.labels_from
    labels = labels or structure.labels

    series_names = sorted(name for name in files if name.lower().endswith(_SERIES_SUFFIXES)
                          and name.rsplit(".", 1)[0] not in _STRUCTURE_NAMES)
    if not series_names:
        raise DataError(f"{where}: no time series: expected one .tsv or .csv per subject, with a header row of "
                        "region names and one row per sample (a TVB connectivity holds the structure only)")
    scans: list[np.ndarray] = []
    for name in series_names:
        table = prefix + name
        names, series = read_series(files[name](), table, delimiter="\t" if name.lower().endswith(".tsv") else ",")
        if labels is None:
            if len(names) != n:
                raise DataError(f"{table}: the header names {len(names)} regions but {w_name} is {n}×{n}")
            labels, labels_from = names, table
        scans.append(_match_columns(names, series, labels, table, labels_from or table))
    return Contents(arrays={"Cmat": w, "Dmat": d, "BOLDs": scans, "TR": tr, "labels": list(labels or ())},
                    scan_names=tuple(series_names))


FORMATS = (
    Format(name="folder", label="a folder of tables", read=read_folder, sniff=lambda path: path.is_dir()),
    Format(name="zip", label="a .zip of such a folder", suffixes=(".zip",), read=read_zip),
)
