"""What a fit is scored against: the empirical FC (and FCD) as the configuration observes it, and the baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.config import MIN_SAMPLES, ConfigError, FitConfig
from engine.data import edges as edge_sets
from engine.data.compare import upper
from engine.data.dataset import DataError, Dataset, structural_baseline
from engine.data.split import Split, make_split, subset

if TYPE_CHECKING:
    from engine.model.fcd import Bandpass


@dataclass(frozen=True, kw_only=True)
class FitTarget:
    """The target of one fit: FC (N, N), pooled sorted FCD values, the TR and windows it was made with."""

    fc: np.ndarray  # (N, N) float64
    fcd_sorted: np.ndarray | None  # pooled upper-triangle FCD values over scans, sorted; None without an FCD term
    tr_s: float | None  # sampling interval of sampled observations (s)
    fcd_window: int  # FCD window in samples (0 without an FCD term)
    fcd_step: int  # FCD step in samples
    structural_baseline: float  # Pearson r of Cmat and ``fc`` on the scored edges: what the structure alone gives
    edges: str = "all"  # the edge set scored (engine.data.edges)
    edge_index: tuple[np.ndarray, np.ndarray] | None = None  # its (i, j) upper-triangle indices; None: every edge
    split: Split | None = None  # under --split, the partition; ``fc`` and ``fcd_sorted`` then hold the TRAIN scans only
    role: str = "train"  # "train" (what the fit scores) or "test" (the held-out check)
    fcd_source: str = ""  # where the empirical FCD came from: "scans" or "group values" ("" without an FCD term)
    fcd_edges: str = "all"  # the edges each FCD window FC is taken on: ``edges``, or "all" where the data has no
    # within-hemisphere group FCD values (then a caveat says so)
    fcd_edge_index: tuple[np.ndarray, np.ndarray] | None = None  # their (i, j) indices; None: every edge
    mean_fc: float = float("nan")  # the target FC's mean on the scored edges (the level the model should reach)


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


def group_fcd_samples(dataset: Dataset) -> tuple[float, float] | None:
    """The FCD window and step in seconds of a dataset's group FCD values (None without them or without a TR)."""
    if dataset.fcd_values is None or dataset.tr_s is None:
        return None
    return dataset.fcd_window_tr * dataset.tr_s, dataset.fcd_step_tr * dataset.tr_s  # type: ignore[operator]


def _check_group_window(config: FitConfig, dataset: Dataset, tr: float, window: int, step: int) -> None:
    """Refuse (one line) a model FCD window/step that is not the one the data's FCD values were made with."""
    w, s = dataset.fcd_window_tr, dataset.fcd_step_tr
    if dataset.tr_s is not None and abs(dataset.tr_s - tr) > 1e-9 * max(1.0, tr):
        raise ConfigError(f"{dataset.name}'s FCD values are of windows of {w} TRs at TR {dataset.tr_s:g} s; "
                          f"the model samples at TR {tr:g} s: leave --tr out")
    if (window, step) != (w, s):
        ws = group_fcd_samples(dataset)
        hint = f"--fcd-window {ws[0]:g} --fcd-step {ws[1]:g}" if ws else f"{w} and {s} TRs"
        raise ConfigError(f"{dataset.name}'s FCD values are of windows of {w} TRs, step {s}; --fcd-window "
                          f"{config.fcd_window_s:g} s / --fcd-step {config.fcd_step_s:g} s give {window} and {step}: "
                          f"use {hint} (or leave them out)")


def align_group_fcd(config: FitConfig, dataset: Dataset) -> FitConfig:
    """``config`` with the FCD window and step (s) of the data's group FCD values when its objective needs FCD."""
    ws = group_fcd_samples(dataset)
    if ws is None or dataset.scans or not config.objective_spec.needs_fcd:
        return config
    if (config.fcd_window_s, config.fcd_step_s) == ws:
        return config
    return config.replace(fcd_window_s=ws[0], fcd_step_s=ws[1])


def training_part(config: FitConfig, dataset: Dataset) -> tuple[Dataset, Split | None]:
    """The dataset a fit scores against (under ``--split`` its training scans only) and the split, if any."""
    if not config.split:
        return dataset, None

    try:
        split = make_split(config.split, dataset)
    except DataError as e:
        raise ConfigError(str(e)) from None
    return subset(dataset, split.train, "train"), split


def build_target(config: FitConfig, dataset: Dataset, n_samples: int | None = None, *,
                 role: str = "train") -> FitTarget:
    """The target for ``config`` on ``dataset``; ``n_samples`` (the model's TR samples) is checked when given.

    Under ``--split`` the target holds the training scans only (``role="test"``: the test scans only); a dataset
    given for a held-out check (``--test``) is passed as ``dataset`` with ``role="test"``.
    """
    split = None
    if config.split:
        full = dataset
        dataset, split = training_part(config, full)
        if role == "test":
            dataset = subset(full, split.test, "test")  # type: ignore[union-attr]
    try:
        edge_index = edge_sets.dataset_edges(config.edges, dataset)
    except edge_sets.EdgeError as e:
        raise ConfigError(f"{dataset.name}: {e}") from None
    tr = resolve_tr(config, dataset)
    fc, band = _target_fc(config, dataset, tr)
    window = step = 0
    if tr is not None:
        window, step = fcd_samples(config, tr)
        if n_samples is not None and n_samples < MIN_SAMPLES:
            raise ConfigError(f"{config.duration_ms:g} ms minus a transient of {config.transient_ms:g} ms leaves "
                              f"{n_samples} samples at TR {tr:g} s; FC needs at least {MIN_SAMPLES}: lengthen --duration")
    fcd_sorted, fcd_source, fcd_edge_index = None, "", edge_index
    needs_fcd = config.objective_spec.needs_fcd
    if needs_fcd:
        assert tr is not None
        model_windows = (n_samples, window, step)
        if not dataset.scans and dataset.fcd_values is not None:
            _check_group_window(config, dataset, tr, window, step)
            _check_two_windows(config, tr, *model_windows)
            fcd_sorted, fcd_edge_index = _group_fcd(config, dataset, edge_index)
            fcd_source = "group values"
        else:
            fcd_sorted, fcd_source = _scan_fcd(config, dataset, tr, band, edge_index, model_windows), "scans"
    # group values of all-edge windows only under --edges within: the model's FCD windows take every edge too
    fcd_edges = "all" if fcd_edge_index is None and edge_index is not None else config.edges
    return FitTarget(fc=fc, fcd_sorted=fcd_sorted, tr_s=tr, fcd_window=window, fcd_step=step,
                     structural_baseline=structural_baseline(dataset, fc, edge_index), edges=config.edges,
                     edge_index=edge_index, split=split, role=role, fcd_source=fcd_source,
                     fcd_edges=fcd_edges, fcd_edge_index=fcd_edge_index,
                     mean_fc=float(np.mean(upper(fc, edge_index))))


def _target_fc(config: FitConfig, dataset: Dataset, tr: float | None) -> tuple[np.ndarray, Bandpass | None]:
    """The empirical FC (band-passed from the scans under ``--bandpass``) and the band-pass used, if any."""
    from engine.model import fcd  # lazy: JAX, as above

    fc = np.asarray(dataset.target_fc, np.float64)
    if tr is None or config.bandpass_hz is None:
        return fc, None
    if not dataset.scans:
        raise ConfigError(f"a band-pass filter needs the empirical BOLD; {dataset.name} holds only an FC")
    if dataset.tr_s is None:
        raise ConfigError(f"a band-pass filter needs the data's own TR; {dataset.name} gives none")
    try:
        band = fcd.Bandpass(tr_s=dataset.tr_s, low_hz=config.bandpass_hz[0], high_hz=config.bandpass_hz[1])
        return fcd.empirical_fc(dataset.scans, bandpass=band), band
    except ValueError as e:
        raise ConfigError(f"band-pass {config.bandpass_hz[0]:g}–{config.bandpass_hz[1]:g} Hz: {e}") from None


def _check_two_windows(config: FitConfig, tr: float, n_samples: int | None, window: int, step: int) -> None:
    """Refuse (one line) a model run too short for two FCD windows."""
    if n_samples is not None and n_samples < window + step:
        raise ConfigError(f"{config.duration_ms:g} ms minus a transient of {config.transient_ms:g} ms leaves "
                          f"{n_samples} samples at TR {tr:g} s, fewer than two FCD windows of "
                          f"{window} samples ({config.fcd_window_s:g} s) {step} apart: lengthen --duration")


def _group_fcd(config: FitConfig, dataset: Dataset, edge_index: tuple[np.ndarray, np.ndarray] | None
               ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """A group's sorted FCD values and the edges their window FCs were taken on (None: every edge)."""
    if config.bandpass_hz is not None:
        raise ConfigError(f"{dataset.name}'s FCD values were computed as they are; a band-pass filter cannot "
                          "be applied to them: leave --bandpass out")
    values = dataset.fcd_values
    if edge_index is not None and dataset.fcd_values_within is not None:
        values = dataset.fcd_values_within
    elif edge_index is not None:  # group values of all-edge windows only: the model's FCD follows them
        edge_index = None
    return np.sort(np.asarray(values, np.float64)), edge_index


def _scan_fcd(config: FitConfig, dataset: Dataset, tr: float, band: Bandpass | None,
              edge_index: tuple[np.ndarray, np.ndarray] | None,
              model_windows: tuple[int | None, int, int]) -> np.ndarray:
    """The pooled sorted FCD values of the empirical scans, at the data's own TR."""
    from engine.model import fcd  # lazy: JAX, as above

    if not dataset.scans:
        raise ConfigError(f"an FCD term needs the empirical BOLD time series or a group's FCD values; "
                          f"{dataset.name} holds only an FC: use --objective fc")
    emp_window, emp_step = fcd_samples(config, dataset.tr_s if dataset.tr_s is not None else tr)
    short = min(x.shape[1] for x in dataset.scans)
    if short < emp_window:
        raise ConfigError(f"the empirical scans ({short} samples) are shorter than one FCD window "
                          f"({config.fcd_window_s:g} s); shorten --fcd-window")
    _check_two_windows(config, tr, *model_windows)
    try:
        return fcd.empirical_fcd_values(dataset.scans, emp_window, emp_step, bandpass=band,
                                        edges=edge_index)
    except ValueError as e:
        raise ConfigError(f"empirical FCD: {e}") from None
