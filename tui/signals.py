"""What the FCD and BOLD panels draw, computed on the host in float64: FCD matrices, value distributions, z-scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import fcd


def fcd_matrix(x: np.ndarray, window: int, step: int) -> np.ndarray:
    """FCD matrix (W, W) of one (T, N) series: correlation between the FC vectors of sliding windows."""
    x = np.asarray(x, np.float64)
    starts = fcd.windows(x.shape[0], window, step)
    if starts.size < 2:
        return np.zeros((0, 0))
    segs = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[starts]  # (W, N, L)
    segs = segs - segs.mean(axis=2, keepdims=True)
    cov = segs @ segs.transpose(0, 2, 1)  # batched matmul (BLAS): einsum here is ~10× slower
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = cov / (sd[:, :, None] * sd[:, None, :])
    iu = np.triu_indices(x.shape[1], k=1)
    v = np.nan_to_num(fc[:, iu[0], iu[1]], nan=0.0)
    v = v - v.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    z = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
    return z @ z.T


def upper(m: np.ndarray) -> np.ndarray:
    """Values above the diagonal of a square matrix (an FCD's distribution)."""
    return np.asarray(m)[np.triu_indices(m.shape[0], k=1)]


def zscore(x: np.ndarray) -> np.ndarray:
    """Each column of (T, N) to mean 0 and standard deviation 1 (flat columns become 0)."""
    x = np.asarray(x, np.float64)
    sd = x.std(axis=0)
    return np.divide(x - x.mean(axis=0), sd, out=np.zeros_like(x), where=sd > 0)


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic of two value sets (NaN when either is empty)."""
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b).statistic)


def band(config, tr_s: float | None) -> fcd.Bandpass | None:
    """The run's band-pass filter at ``tr_s`` (None when off or without a TR)."""
    if config is None or getattr(config, "bandpass_hz", None) is None or tr_s is None:
        return None
    lo, hi = config.bandpass_hz
    try:
        return fcd.Bandpass(tr_s=float(tr_s), low_hz=lo, high_hz=hi)
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class Empirical:
    """An empirical scan for the panels: its series (T, N), TR, FCD matrix and the pooled FCD values of every scan."""

    series: np.ndarray  # (T, N) the first scan, band-passed like the fit
    tr_s: float
    fcd: np.ndarray  # (W, W) of ``series``
    values: np.ndarray  # FCD values of every scan, pooled
    window: int
    step: int


def empirical(config, dataset) -> Empirical | None:
    """The panels' empirical side for ``config`` on ``dataset`` (None without scans or a TR)."""
    from engine.model.target import fcd_samples

    scans = getattr(dataset, "scans", ()) or ()
    tr = getattr(dataset, "tr_s", None) or getattr(config, "tr_s", None)
    if not scans or tr is None:
        return None
    window, step = fcd_samples(config, float(tr))
    bp = band(config, tr)
    series = [np.asarray(s, np.float64).T for s in scans]
    if bp is not None:
        try:
            series = [bp.apply(s) for s in series]
        except ValueError:
            pass
    mats = [fcd_matrix(s, window, step) for s in series]
    values = np.concatenate([upper(m) for m in mats if m.size]) if any(m.size for m in mats) else np.zeros(0)
    return Empirical(series=series[0], tr_s=float(tr), fcd=mats[0], values=values, window=window, step=step)


@dataclass(frozen=True, kw_only=True)
class Model:
    """The model side: a candidate's sampled signal (S, N), its TR, FCD matrix and values."""

    series: np.ndarray
    tr_s: float
    fcd: np.ndarray
    window: int
    step: int


def model(config, signal: np.ndarray | None, tr_s: float | None) -> Model | None:
    """The panels' model side from a sampled signal (e.g. NewBest.model_signal), band-passed like the fit."""
    from engine.model.target import fcd_samples

    if signal is None or tr_s is None or np.size(signal) == 0:
        return None
    y = np.asarray(signal, np.float64)
    bp = band(config, tr_s)
    if bp is not None:
        try:
            y = bp.apply(y)
        except ValueError:
            pass
    window, step = fcd_samples(config, float(tr_s))
    return Model(series=y, tr_s=float(tr_s), fcd=fcd_matrix(y, window, step), window=window, step=step)
