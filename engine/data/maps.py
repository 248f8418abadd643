"""Brain maps: per-region values that regional parameters follow (``wEE@myelinmap``), read with the data or derived.

Where maps come from, later sources overriding earlier ones under the same name:

1. the data file itself: a ``maps`` array (K, N) or (N, K) with ``map_names`` (K) in .npz / .msgpack / .mat;
2. a ``maps/`` folder of ``NAME.txt`` / ``NAME.csv`` (N numbers each) inside a folder dataset or beside a data file;
3. ``--map NAME=FILE`` (a FitConfig's ``maps``);
4. derived by the product (never overridden by the data: a data map of that name is an error):
   ``strength`` — each region's structural in-strength Σ_j C_ij, and ``fcgradient`` — the principal gradient of the
   FC the fit is scored against (a diffusion map of the row-thresholded FC's cosine affinity, Margulies et al. 2016;
   sign: positive where the regions' mean FC is highest). It is computed from the *target* FC given to the objective.

Every continuous map is min–max scaled to [0, 1] over regions (cuBNM's convention) before it enters
value_i = base × (1 + Σ_k c_k · m_k,i). A map whose values are all integers (≤ 20 distinct, fewer than half the regions, e.g. ``yeo7``) is
categorical: it becomes one indicator map per group, ``yeo7:0`` … ``yeo7:6``, so ``ext_E@yeo7:3`` is group 3's
coefficient (one value per group).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from engine.data.dataset import DataError, Dataset
from engine.data.named import named_path

#: Maps the product computes from the structure and the target FC.
DERIVED: tuple[str, ...] = ("strength", "fcgradient")

#: Distinct integer values up to which a map is categorical (one value per group).
MAX_GROUPS = 20

#: Extensions of map files in a ``maps/`` folder.
MAP_SUFFIXES = (".txt", ".csv")


def read_map_file(path: Path, n: int) -> np.ndarray:
    """The N numbers of one map file (whitespace, comma or newline separated); one-line DataError otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"cannot read map file {path}: {e.strerror or e}") from None
    try:
        values = np.array([float(x) for x in text.replace(",", " ").split()], np.float64)
    except ValueError:
        raise DataError(f"map file {path} holds something that is not a number") from None
    return check_map(values, n, f"map file {path}")


def check_map(values: Any, n: int, what: str) -> np.ndarray:
    """A map as float64 (N,), or a one-line DataError for a wrong length or a non-finite value."""
    v = np.asarray(values, np.float64).reshape(-1)
    if v.size != n:
        raise DataError(f"{what} has {v.size} values; the data has {n} regions")
    if not np.isfinite(v).all():
        bad = int(np.flatnonzero(~np.isfinite(v))[0])
        raise DataError(f"{what} has a non-finite value (NaN or inf) at region {bad}")
    return v


def _folder_of(source: str) -> Path | None:
    """The ``maps/`` folder of a dataset source: inside a folder dataset, beside a data file; None if absent."""
    if not source or source == "bundled" or source.lower().startswith("kaggle:"):
        return None
    p = named_path(source) or Path(source).expanduser()
    folder = p / "maps" if p.is_dir() else p.parent / "maps"
    return folder if folder.is_dir() else None


def _from_file_keys(source: str, n: int) -> dict[str, np.ndarray]:
    """Maps stored in the data file under ``maps`` and ``map_names``."""
    if not source or source == "bundled":
        return {}
    p = Path(source).expanduser()
    if not p.is_file():
        return {}
    suffix = p.suffix.lower()
    raw: Mapping[str, Any]
    try:
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                raw = {k: z[k] for k in ("maps", "map_names") if k in z.files}
        elif suffix == ".msgpack":
            from engine.data.formats.msgpack_file import read_msgpack

            got = read_msgpack(p)
            raw = {k: got[k] for k in ("maps", "map_names") if isinstance(got, Mapping) and k in got}
        elif suffix == ".mat":
            import scipy.io

            got = scipy.io.loadmat(p, variable_names=["maps", "map_names"])
            raw = {k: got[k] for k in ("maps", "map_names") if k in got}
        else:
            return {}
    except DataError:
        raise
    except Exception:  # noqa: BLE001 - the dataset reader already accepted the file; no maps there then
        return {}
    if "maps" not in raw:
        return {}
    if "map_names" not in raw:
        raise DataError(f"{p} has a 'maps' array but no 'map_names' to name its rows")
    names = [str(x).strip() for x in np.asarray(raw["map_names"]).reshape(-1)]
    if isinstance(raw["maps"], Mapping):
        arr = np.asarray([raw["maps"][str(i)] for i in range(len(raw["maps"]))], np.float64)
    else:
        arr = np.asarray(raw["maps"], np.float64)
    if arr.ndim == 1 and len(names) == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise DataError(f"{p}: 'maps' must be a (maps × regions) array, got shape {arr.shape}")
    if arr.shape[0] != len(names) and arr.shape[1] == len(names):
        arr = arr.T
    if arr.shape[0] != len(names):
        raise DataError(f"{p}: 'maps' has {arr.shape[0]} rows but 'map_names' names {len(names)}")
    return {nm: check_map(row, n, f"map {nm!r} in {p}") for nm, row in zip(names, arr)}


def read_maps(dataset: Dataset, extra: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """Every map the data carries (file keys, ``maps/`` folder, then ``extra`` NAME → FILE), unscaled."""
    n = dataset.n_nodes
    out = _from_file_keys(dataset.source, n)
    folder = _folder_of(dataset.source)
    if folder is not None:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in MAP_SUFFIXES and f.is_file():
                out[f.stem] = read_map_file(f, n)
    for name, file in (extra or {}).items():
        out[name] = read_map_file(Path(file).expanduser(), n)
    clash = sorted(set(out) & set(DERIVED))
    if clash:
        raise DataError(f"the data carries a map called {clash[0]!r}, a name the product derives itself; rename it")
    return out


def in_strength(cmat: np.ndarray) -> np.ndarray:
    """Σ_j C_ij per region i (the weight a region receives: its coupling input scales with it)."""
    return np.asarray(cmat, np.float64).sum(axis=1)


def fc_gradient(fc: np.ndarray, keep: float = 0.1) -> np.ndarray:
    """The principal FC gradient: diffusion map (α ½) of the cosine affinity of each row's top ``keep`` of FC."""
    x = np.array(fc, np.float64)
    np.fill_diagonal(x, 0.0)
    thr = np.quantile(x, 1.0 - keep, axis=1, keepdims=True)
    x = np.where(x >= thr, x, 0.0)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norm > 0, norm, 1.0)
    a = np.clip(x @ x.T, 0.0, None)
    d = a.sum(axis=1)
    d = np.where(d > 0, d, 1.0)
    a = a / np.sqrt(np.outer(d, d))  # α = ½ normalisation
    d2 = a.sum(axis=1)
    d2 = np.where(d2 > 0, d2, 1.0)
    w, v = np.linalg.eigh(a / np.sqrt(np.outer(d2, d2)))
    g = v[:, -2] / np.sqrt(d2)  # the first non-trivial eigenvector
    mean_fc = np.asarray(fc, np.float64).mean(axis=1)
    if np.corrcoef(g, mean_fc)[0, 1] < 0:
        g = -g
    return g


def derived_maps(cmat: np.ndarray, target_fc: np.ndarray) -> dict[str, np.ndarray]:
    """The derived maps ``strength`` and ``fcgradient`` (of ``target_fc``), unscaled."""
    return {"strength": in_strength(cmat), "fcgradient": fc_gradient(target_fc)}


def is_categorical(v: np.ndarray) -> bool:
    """Whether a map is a grouping: integers only, at most ``MAX_GROUPS`` distinct ones and fewer than half the regions."""
    groups = len(np.unique(v))
    return bool(np.all(v == np.round(v)) and groups <= MAX_GROUPS and 2 * groups < v.size)


def minmax(v: np.ndarray, what: str) -> np.ndarray:
    """``v`` scaled to [0, 1] over regions; a constant map is a one-line DataError."""
    lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        raise DataError(f"map {what!r} is constant over regions; it cannot make parameters differ")
    return (v - lo) / (hi - lo)


def scaled_maps(raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Maps as they enter the formula: continuous ones min–max scaled, categorical ones as ``NAME:G`` indicators."""
    out: dict[str, np.ndarray] = {}
    for name, v in raw.items():
        if is_categorical(v):
            for g in np.unique(v):
                out[f"{name}:{int(g)}"] = (v == g).astype(np.float64)
        else:
            out[name] = minmax(v, name)
    return out


def resolve(needed: Iterable[str], dataset: Dataset, target_fc: np.ndarray,
            extra: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """The scaled maps (N,) that ``needed`` names, from the data, ``extra`` and the derived ones; DataError if unknown."""
    needed = list(dict.fromkeys(needed))
    if not needed:
        return {}
    raw = read_maps(dataset, extra)
    raw.update(derived_maps(dataset.cmat, target_fc))
    scaled = scaled_maps(raw)
    out = {}
    for name in needed:
        if name not in scaled:
            base = name.partition(":")[0]
            if base in raw and is_categorical(raw[base]):
                groups = sorted(k for k in scaled if k.startswith(base + ":"))
                raise DataError(f"map {name!r}: {base} is categorical with groups {', '.join(groups)}")
            if base in raw:
                raise DataError(f"map {name!r}: {base} is continuous; name it without ':GROUP'")
            raise DataError(f"unknown map {name!r}; {dataset.name} has: {', '.join(sorted(scaled)) or '(none)'}")
        out[name] = scaled[name]
    return out


def available(dataset: Dataset, extra: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Names of every map a fit on ``dataset`` can use (categorical ones as their ``NAME:G`` groups)."""
    raw = read_maps(dataset, extra)
    raw.update(derived_maps(dataset.cmat, dataset.target_fc))
    return tuple(sorted(scaled_maps(raw)))
