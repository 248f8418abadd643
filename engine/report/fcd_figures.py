"""FCD figures: the data's and the best model's FCD matrices and the two distributions of FCD values with KS.

Computed on the host in float64 as the fit computes them (``engine.model.fcd``): windows and step from the run's
settings at the signal's TR, band-passed when the fit was. The model side needs the best candidate's sampled
signal (``best_signal.npz``, kept by runs since the report); the data side needs the run's BOLD scans or a group's
FCD values. Whatever is missing is said on the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.report.canvas import DATA, MODEL, Drawn, figure, message, style
from engine.report.source import BestSignal


@dataclass(frozen=True, kw_only=True)
class FCDSide:
    """One side of the comparison: an FCD matrix to show (may be empty) and the pooled upper-triangle values."""

    matrix: np.ndarray  # (W, W) of one series; (0, 0) when none
    values: np.ndarray  # pooled FCD values
    window: int  # samples
    step: int
    what: str  # e.g. "scan 1 of 4" or "group values (706 subjects)"


def _bandpass(config: FitConfig, tr_s: float) -> object | None:
    from engine.model import fcd

    if config.bandpass_hz is None:
        return None
    try:
        return fcd.Bandpass(tr_s=tr_s, low_hz=config.bandpass_hz[0], high_hz=config.bandpass_hz[1])
    except ValueError:
        return None


def _series(x: np.ndarray, band: object | None) -> np.ndarray:
    if band is None:
        return x
    try:
        return band.apply(x)  # type: ignore[attr-defined, no-any-return]
    except ValueError:
        return x


def data_side(config: FitConfig, dataset: Dataset) -> FCDSide | str:
    """The data's FCD from its scans (first scan's matrix, every scan's values) or group values; else why not."""
    from engine.model.fcd import host_fcd_matrix
    from engine.model.target import fcd_samples

    tr = config.tr_s if config.tr_s is not None else dataset.tr_s
    if tr is None:
        return "the data gives no TR, so no FCD"
    window, step = fcd_samples(config, float(tr))
    if dataset.scans:
        band = _bandpass(config, float(tr))
        mats = [host_fcd_matrix(_series(np.asarray(s, np.float64).T, band), window, step) for s in dataset.scans]
        vals = [m[np.triu_indices(m.shape[0], k=1)] for m in mats if m.size]
        if not vals:
            return f"the scans are too short for two FCD windows of {window} samples"
        return FCDSide(matrix=mats[0], values=np.concatenate(vals), window=window, step=step,
                       what=f"scan 1 of {len(mats)}" if len(mats) > 1 else "the scan")
    if dataset.fcd_values is not None:
        w, s = dataset.fcd_window_tr or window, dataset.fcd_step_tr or step
        return FCDSide(matrix=np.zeros((0, 0)), values=np.asarray(dataset.fcd_values, np.float64), window=w,
                       step=s, what="group FCD values")
    return "the run stored no BOLD scans and no group FCD values"


def model_side(config: FitConfig, signal: BestSignal | None) -> FCDSide | str:
    """The best candidate's FCD from its kept signal; else why not."""
    from engine.model.fcd import host_fcd_matrix
    from engine.model.target import fcd_samples

    if signal is None:
        return ("the run kept no sampled signal of its best candidate (observation not sampled, a cluster fit, "
                "or a run written before reports)")
    window, step = fcd_samples(config, signal.tr_s)
    m = host_fcd_matrix(_series(signal.signal, _bandpass(config, signal.tr_s)), window, step)
    if m.size == 0:
        return f"the model's {signal.signal.shape[0]} samples give fewer than two FCD windows of {window}"
    return FCDSide(matrix=m, values=m[np.triu_indices(m.shape[0], k=1)], window=window, step=step,
                   what=f"best candidate (evaluation {signal.evaluation})")


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic (NaN when either side is empty)."""
    if a.size == 0 or b.size == 0:
        return float("nan")
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b).statistic)


def _matrix(fig: Any, ax: Any, side: FCDSide | str, title: str, tr_s: float | None) -> None:
    if isinstance(side, str) or side.matrix.size == 0:
        message(ax, side if isinstance(side, str) else f"{side.what}:\nvalues only, no matrix")
        ax.set_title(title, fontsize=10)
        return
    w = side.matrix.shape[0]
    extent = None if tr_s is None else (0, w * side.step * tr_s, w * side.step * tr_s, 0)
    im = ax.imshow(side.matrix, cmap="viridis", vmin=-0.2, vmax=1.0, extent=extent, interpolation="nearest")
    ax.set_title(f"{title}: {side.what}", fontsize=9)
    ax.set_xlabel("window start (s)" if tr_s else "window", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, shrink=0.75)


def _ecdf(ax: Any, data: FCDSide, model: FCDSide) -> float:
    """Both empirical CDFs with the KS gap marked; the KS statistic."""
    style(ax)
    grid = np.sort(np.concatenate([data.values, model.values]))
    cdfs = []
    for side, colour, label in ((data, DATA, "data"), (model, MODEL, "model")):
        v = np.sort(side.values)
        cdf = np.searchsorted(v, grid, side="right") / v.size
        cdfs.append(cdf)
        ax.step(grid, cdf, where="post", color=colour, linewidth=1.5, label=label)
    gap = np.abs(cdfs[0] - cdfs[1])
    i = int(np.argmax(gap))
    ax.vlines(grid[i], min(cdfs[0][i], cdfs[1][i]), max(cdfs[0][i], cdfs[1][i]), color="black", linewidth=2)
    ax.annotate(f"KS {gap[i]:.3f}", (grid[i], (cdfs[0][i] + cdfs[1][i]) / 2), xytext=(6, 0),
                textcoords="offset points", fontsize=8, va="center")
    ax.set_title("cumulative distributions", fontsize=9)
    ax.set_xlabel("FCD value", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return float(gap[i])


def _histogram(ax: Any, data: FCDSide | str, model: FCDSide | str, summary_ks: float | None) -> None:
    style(ax)
    bins = np.linspace(-0.5, 1.0, 46)
    for side, colour, label in ((data, DATA, "data"), (model, MODEL, "model")):
        if not isinstance(side, str):
            ax.hist(side.values, bins=bins, density=True, histtype="step", linewidth=1.6, color=colour,
                    label=f"{label} ({side.values.size:,} values)")
    ax.set_title("FCD values" + ("" if summary_ks is None else f" (the fit's fcd_ks {summary_ks:.3f})"), fontsize=9)
    ax.set_xlabel("FCD value (r between window FCs)", fontsize=8)
    ax.set_ylabel("density", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper left")


def fcd_figure(config: FitConfig, dataset: Dataset, signal: BestSignal | None, summary_ks: float | None) -> Drawn:
    """Data and model FCD matrices, their value distributions and cumulative distributions with KS."""
    data, model = data_side(config, dataset), model_side(config, signal)
    fig = figure(15.0, 3.7)
    axes = fig.subplots(1, 4, width_ratios=[1, 1, 1.1, 1.1])
    tr = config.tr_s if config.tr_s is not None else dataset.tr_s
    _matrix(fig, axes[0], data, "data", tr)
    _matrix(fig, axes[1], model, "model", signal.tr_s if signal else None)
    if isinstance(data, str) and isinstance(model, str):
        message(axes[2], "no FCD values on either side")
    else:
        _histogram(axes[2], data, model, summary_ks)
    if isinstance(data, str) or isinstance(model, str):
        message(axes[3], "KS needs both sides")
    else:
        _ecdf(axes[3], data, model)
    missing = "; ".join(f"{who}: {s}" for who, s in (("data", data), ("model", model)) if isinstance(s, str))
    band = f", band-passed {config.bandpass_hz[0]:g}–{config.bandpass_hz[1]:g} Hz" if config.bandpass_hz else ""
    caption = (f"Windows of {config.fcd_window_s:g} s, step {config.fcd_step_s:g} s{band}. KS: the largest gap between "
               "the two cumulative distributions, here of the best candidate's one stored realisation (the fit's own "
               "fcd_ks term, when it has one, is in the histogram's title). "
               + (f"Missing — {missing}." if missing else ""))
    return Drawn(name="fcd", title="FCD: matrices and value distributions", caption=caption.strip(), fig=fig)
