"""What a fit is scored against: the empirical FC (and FCD) as the configuration observes it, and the baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import MIN_SAMPLES, ConfigError, FitConfig
from engine.data.dataset import Dataset, structural_baseline


@dataclass(frozen=True, kw_only=True)
class FitTarget:
    """The target of one fit: FC (N, N), pooled sorted FCD values, the TR and windows it was made with."""

    fc: np.ndarray  # (N, N) float64
    fcd_sorted: np.ndarray | None  # pooled upper-triangle FCD values over scans, sorted; None without an FCD term
    tr_s: float | None  # sampling interval of sampled observations (s)
    fcd_window: int  # FCD window in samples (0 without an FCD term)
    fcd_step: int  # FCD step in samples
    structural_baseline: float  # Pearson r of the upper triangles of Cmat and ``fc``: what the structure alone gives


def resolve_tr(config: FitConfig, dataset: Dataset) -> float | None:
    """The TR a sampled observation uses (``--tr``, else the data's); None for unsampled observations."""
    from engine.model import observe  # lazy: JAX (engine.search reads this module inside Ray actors before JAX)

    if not observe.REGISTRY[config.observe].sampled:
        return None
    tr = config.tr_s if config.tr_s is not None else dataset.tr_s
    if tr is None:
        raise ConfigError(f"observation {config.observe!r} samples every TR, and {dataset.name} gives no TR: "
                          "pass --tr SECONDS (0.72 for HCP) or add a TR key to the data")
    return float(tr)


def fcd_samples(config: FitConfig, tr_s: float) -> tuple[int, int]:
    """FCD window and step in samples of ``tr_s``."""
    return max(2, int(round(config.fcd_window_s / tr_s))), max(1, int(round(config.fcd_step_s / tr_s)))


def build_target(config: FitConfig, dataset: Dataset, n_samples: int | None = None) -> FitTarget:
    """The target for ``config`` on ``dataset``; ``n_samples`` (the model's TR samples) is checked when given."""
    from engine.model import fcd  # lazy: JAX, as above

    tr = resolve_tr(config, dataset)
    spec = config.objective_spec
    band = None
    fc = np.asarray(dataset.target_fc, np.float64)
    if tr is not None and config.bandpass_hz is not None:
        if not dataset.scans:
            raise ConfigError(f"a band-pass filter needs the empirical BOLD; {dataset.name} holds only an FC")
        if dataset.tr_s is None:
            raise ConfigError(f"a band-pass filter needs the data's own TR; {dataset.name} gives none")
        try:
            band = fcd.Bandpass(tr_s=dataset.tr_s, low_hz=config.bandpass_hz[0], high_hz=config.bandpass_hz[1])
            fc = fcd.empirical_fc(dataset.scans, bandpass=band)
        except ValueError as e:
            raise ConfigError(f"band-pass {config.bandpass_hz[0]:g}–{config.bandpass_hz[1]:g} Hz: {e}") from None
    window = step = 0
    fcd_sorted = None
    if tr is not None:
        window, step = fcd_samples(config, tr)
        if n_samples is not None and n_samples < MIN_SAMPLES:
            raise ConfigError(f"{config.duration_ms:g} ms minus a transient of {config.transient_ms:g} ms leaves "
                              f"{n_samples} samples at TR {tr:g} s; FC needs at least {MIN_SAMPLES}: lengthen --duration")
    if spec.needs_fcd:
        if not dataset.scans:
            raise ConfigError(f"an FCD term needs the empirical BOLD time series; {dataset.name} holds only an FC: "
                              "use --objective fc")
        assert tr is not None
        data_tr = dataset.tr_s if dataset.tr_s is not None else tr
        emp_window, emp_step = fcd_samples(config, data_tr)
        short = min(x.shape[1] for x in dataset.scans)
        if short < emp_window:
            raise ConfigError(f"the empirical scans ({short} samples) are shorter than one FCD window "
                              f"({config.fcd_window_s:g} s); shorten --fcd-window")
        if n_samples is not None and n_samples < window + step:
            raise ConfigError(f"{config.duration_ms:g} ms minus a transient of {config.transient_ms:g} ms leaves "
                              f"{n_samples} samples at TR {tr:g} s, fewer than two FCD windows of "
                              f"{window} samples ({config.fcd_window_s:g} s) {step} apart: lengthen --duration")
        try:
            fcd_sorted = fcd.empirical_fcd_values(dataset.scans, emp_window, emp_step, bandpass=band)
        except ValueError as e:
            raise ConfigError(f"empirical FCD: {e}") from None
    return FitTarget(fc=fc, fcd_sorted=fcd_sorted, tr_s=tr, fcd_window=window, fcd_step=step,
                     structural_baseline=structural_baseline(dataset, fc))
