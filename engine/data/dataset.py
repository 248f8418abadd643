"""Datasets: structural connectivity, fibre lengths and the target FC, loaded and checked."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data import formats
from engine.data.checks import check_bolds, check_labels, check_tr_field, square_matrix
from engine.data.cohort import check_scan_structure, check_subjects
from engine.data.compare import matrix_corr
from engine.data.errors import DataError, as_float_array, check_finite
from engine.data.group import read_group_fields
from engine.data.kaggle import KAGGLE_PREFIX, kaggle_file
from engine.data.named import NAMED, load_named
from engine.text import one_line


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A checked dataset: Cmat and Dmat (N×N, zero diagonal) and the target FC (N×N)."""

    name: str
    source: str
    cmat: np.ndarray  # (N, N) float64, diagonal zeroed
    dmat: np.ndarray  # (N, N) float64 in mm, diagonal zeroed
    target_fc: np.ndarray  # (N, N) float64, mean over scans of per-scan FC
    n_scans: int  # 0 when the FC was given precomputed
    n_timepoints: int  # per scan (the shortest); 0 when the FC was given precomputed
    scans: tuple[np.ndarray, ...] = ()  # each (N, T) float64, as read: the empirical BOLD behind the target
    tr_s: float | None = None  # repetition time of the scans in seconds, when the data says
    labels: tuple[str, ...] | None = None  # region names, when the data has them
    hemisphere: np.ndarray | None = None  # (N,) int8 0 left / 1 right, when the data gives a 'hemisphere' array
    fcd_values: np.ndarray | None = None  # a group's empirical FCD values (upper triangles), when the data carries them
    fcd_window_tr: int | None = None  # the window (TRs) those FCD values were computed with
    fcd_step_tr: int | None = None  # their window step (TRs)
    fcd_values_within: np.ndarray | None = None  # the group's FCD values of within-hemisphere window FCs (same windows)
    subjects: tuple[str, ...] | None = None  # each scan's subject id (a study's --per subject), when the data says
    scan_cmats: np.ndarray | None = None  # (n_scans, N, N) each scan's own structure (its subject's), when given
    scan_dmats: np.ndarray | None = None  # (n_scans, N, N) each scan's own fibre lengths in mm, when given

    @property
    def n_nodes(self) -> int:
        """Number of regions N."""
        return int(self.cmat.shape[0])


def bundled_path() -> Path:
    """Path of the HCP dataset shipped inside the package."""
    return Path(__file__).with_name("bundled") / "hcp80.msgpack"


def bundled_labels_path() -> Path:
    """Path of the bundled dataset's region labels (AAL2 names, one per line), shipped beside it."""
    return bundled_path().with_name("hcp80_labels.txt")


def _bundled_labels() -> tuple[str, ...] | None:
    """The bundled dataset's region labels, or None when the labels file is missing or unreadable."""
    try:
        text = bundled_labels_path().read_text(encoding="utf-8")
    except OSError:
        return None
    return tuple(line.strip() for line in text.splitlines() if line.strip()) or None


def functional_connectivity(x: np.ndarray) -> np.ndarray:
    """Pearson FC of a (T, N) series as braintools computes it: NaN → 0, unit diagonal."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = np.corrcoef(x, rowvar=False)
    fc = np.nan_to_num(fc, nan=0.0)
    np.fill_diagonal(fc, 1.0)
    return fc


def structural_baseline(dataset: Dataset, fc: np.ndarray | None = None,
                        edges: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Pearson r of Cmat and the target FC (or ``fc``) over ``edges`` (default the upper triangle); NaN if constant."""
    return matrix_corr(dataset.cmat, dataset.target_fc if fc is None else fc, edges)


def dataset_warnings(dataset: Dataset) -> list[str]:
    """Problems that do not prevent using the dataset, one line each (empty when none)."""
    out: list[str] = []
    c, d, n = dataset.cmat, dataset.dmat, dataset.n_nodes
    if dataset.n_scans == 0:
        out.append("no BOLD scans, only a precomputed FC: BOLD observation cannot be compared scan by scan")
    elif dataset.tr_s is None:
        out.append("no TR: BOLD observation needs --tr (seconds)")
    lengths = sorted({s.shape[1] for s in dataset.scans})
    if len(lengths) > 1:
        out.append(f"scans differ in length ({lengths[0]}–{lengths[-1]} samples); each scan's FC uses all of it")
    for name, m in (("Cmat", c), ("Dmat", d)):
        asym = float(np.max(np.abs(m - m.T)))
        if asym > 1e-12 * max(1.0, float(np.max(np.abs(m)))):
            out.append(f"{name} not symmetric (largest |{name} - {name}ᵀ| = {asym:.3g}); used as given")
    if np.max(c) == 0:
        out.append("Cmat is all zeros: the regions are not coupled")
    else:
        isolated = np.flatnonzero((c.sum(axis=0) == 0) & (c.sum(axis=1) == 0))
        if isolated.size:
            out.append(f"{isolated.size} region(s) have no connections in Cmat (first: {_region(dataset, isolated[0])})")
        if not 0.5 <= float(np.max(c)) <= 2.0:
            out.append(f"Cmat's largest weight is {float(np.max(c)):.4g}, not about 1; the coupling k's default "
                       "bounds assume max-normalised weights")
    off = ~np.eye(n, dtype=bool)
    zero_len = int(np.sum((d == 0) & off & (c > 0)))
    if zero_len:
        out.append(f"{zero_len // 2 if np.allclose(d, d.T) else zero_len} connection(s) have tract length 0 "
                   "(no delay)")
    if dataset.labels is None:
        out.append("no labels: regions are shown by number")
    else:
        dup = sorted({x for x in dataset.labels if dataset.labels.count(x) > 1})
        if dup:
            out.append(f"labels repeat: {', '.join(repr(x) for x in dup[:5])}")
    r = structural_baseline(dataset)
    if not np.isfinite(r):
        out.append("structural baseline undefined (Cmat or the target FC is constant off the diagonal)")
    return out


def _region(dataset: Dataset, i: int) -> str:
    """Region i by label when the dataset has labels, else by number."""
    return f"{i} ({dataset.labels[i]})" if dataset.labels else str(i)


# ---------------------------------------------------------------------------
# loading

_BUNDLED_NAMES = ("", "bundled")


def load_dataset(source: str | Path | None = None) -> Dataset:
    """Load and check a dataset: 'bundled' (default), a named one, a file or folder of a format in
    ``engine.data.formats`` (.msgpack, .npz, .mat, .zip, a folder of tables), or 'kaggle:…'."""
    if source is None or (isinstance(source, str) and source.strip() in _BUNDLED_NAMES):
        return _load_path(bundled_path(), name="hcp80 (bundled)", source="bundled")
    if isinstance(source, str) and source.strip().lower() in NAMED:
        return load_named(source.strip().lower(), _load_path)
    if isinstance(source, str) and source.strip().lower().startswith(KAGGLE_PREFIX):
        target, where = kaggle_file(source.strip())
        return _load_path(target, name=target.stem, source=where)
    try:
        path = Path(source).expanduser()
    except TypeError as exc:
        raise DataError(f"cannot use dataset source {source!r}: {one_line(exc)}") from None
    return _load_path(path, name=path.resolve().name if path.is_dir() else path.stem, source=str(path))


def _load_path(path: Path, *, name: str, source: str) -> Dataset:
    """Read a dataset file or folder in any known format and check it; every failure is a one-line DataError."""
    if not path.exists():
        raise DataError(f"dataset file not found: {path}")
    try:
        contents = formats.read(path)
        dataset = _build(contents.arrays, path=path, name=name, source=source, scan_names=contents.scan_names)
        if dataset.labels is None and _is_bundled(path):
            labels = _bundled_labels()
            if labels is not None and len(labels) == dataset.n_nodes:
                dataset = dataclasses.replace(dataset, labels=labels)
        return dataset
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"cannot read {path}: not enough memory") from None
    except Exception as exc:  # anything unexpected while parsing becomes one line
        raise DataError(f"cannot read {path}: {one_line(exc)}") from None


def _is_bundled(path: Path) -> bool:
    """Whether ``path`` is the bundled dataset file (its labels live in a file beside it)."""
    try:
        return path.resolve() == bundled_path().resolve()
    except OSError:
        return False


def _build(raw: Any, *, path: Path, name: str, source: str, scan_names: tuple[str, ...] = ()) -> Dataset:
    """Check the decoded contents (of any format) and assemble the Dataset."""
    if not isinstance(raw, Mapping):
        raise DataError(
            f"{path}: the top level must be a map with keys Cmat, Dmat and BOLDs (or FC), "
            f"got {type(raw).__name__}"
        )
    present = ", ".join(str(k) for k in raw) or "none"
    for key in ("Cmat", "Dmat"):
        if key not in raw:
            raise DataError(f"{path}: missing key {key!r} (keys present: {present})")
    if "BOLDs" not in raw and "FC" not in raw:
        raise DataError(f"{path}: missing key 'BOLDs' (or a precomputed 'FC'); keys present: {present}")

    cmat = square_matrix(raw["Cmat"], path=path, what="Cmat")
    dmat = square_matrix(raw["Dmat"], path=path, what="Dmat")
    if cmat.shape != dmat.shape:
        raise DataError(f"{path}: Cmat is {cmat.shape[0]}×{cmat.shape[1]} but Dmat is {dmat.shape[0]}×{dmat.shape[1]}")
    n = cmat.shape[0]
    if n < 2:
        raise DataError(f"{path}: a network needs at least 2 regions, Cmat is {n}×{n}")
    if np.any(cmat < 0):
        raise DataError(f"{path}: Cmat has {int((cmat < 0).sum())} negative weights (min {cmat.min():.4g})")
    if np.any(dmat < 0):
        raise DataError(f"{path}: Dmat has {int((dmat < 0).sum())} negative lengths (min {dmat.min():.4g})")
    np.fill_diagonal(cmat, 0.0)
    np.fill_diagonal(dmat, 0.0)

    if "BOLDs" in raw:
        scans, n_timepoints = check_bolds(raw["BOLDs"], path=path, n=n, names=scan_names)
        target_fc = np.mean([functional_connectivity(bold.T) for bold in scans], axis=0)
        n_scans = len(scans)
    else:
        fc = as_float_array(raw["FC"], path=path, what="FC")
        if fc.shape != (n, n):
            raise DataError(f"{path}: FC must be {n}×{n} like Cmat, got shape {fc.shape}")
        check_finite(fc, path=path, what="FC")
        target_fc, n_scans, n_timepoints = fc, 0, 0
    scan_cmats, scan_dmats = check_scan_structure(raw, path=path, n=n, n_scans=int(n_scans))

    return Dataset(
        name=name,
        source=source,
        cmat=cmat,
        dmat=dmat,
        target_fc=np.asarray(target_fc, dtype=np.float64),
        n_scans=int(n_scans),
        n_timepoints=int(n_timepoints),
        scans=tuple(scans) if "BOLDs" in raw else (),
        tr_s=check_tr_field(raw.get("TR"), path=path),
        labels=check_labels(raw.get("labels"), path=path, n=n),
        subjects=check_subjects(raw.get("subjects"), path=path, n_scans=int(n_scans)),
        scan_cmats=scan_cmats,
        scan_dmats=scan_dmats,
        **read_group_fields(raw, path=path, n=n),
    )


def read_arrays(path: Path) -> Any:
    """The raw arrays of a data file in any registered format, unchecked."""
    return formats.read(path).arrays
