"""What the FCD and BOLD panels draw, computed on the host in float64: FCD matrices, value distributions, z-scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.compare import upper
from engine.model import fcd, observe
from engine.model.fcd import host_fcd_matrix
from engine.model.target import fcd_samples


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
    mats = [host_fcd_matrix(s, window, step) for s in series]
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
    return Model(series=y, tr_s=float(tr_s), fcd=host_fcd_matrix(y, window, step), window=window, step=step)


def is_sampled(config) -> bool:
    """Whether ``config`` observes a signal sampled every TR (BOLD), so that FCD and BOLD panels apply."""
    obs = observe.REGISTRY.get(getattr(config, "observe", "rE"))
    return bool(obs is not None and obs.sampled)
