"""What a batch is made of: its result, its stop, how much memory it may use and how its maps are resolved."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data import edges, maps, nulls
from engine.data.dataset import DataError, Dataset
from engine.model import network, regional, terms

#: Loss given to a candidate whose simulation diverged, per unit weight of the objective (1 − corr ≤ 2, KS ≤ 1).
WORST_LOSS = 2.0

#: Simulated time per segment (ms): long enough that a segment's dispatch is lost in its run time.
SEGMENT_MS = 5000.0


class BatchCancelled(Exception):
    """The batch was stopped between two segments; it has no scores."""


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """Scores of one batch, trimmed to the real (unpadded) candidates."""

    losses: np.ndarray  # (B,) finite
    flags: tuple[str, ...]  # "" | "nan" (diverged) | "flat" (no FC variance)
    best_index: int  # index of the lowest loss in this batch
    best_fc: np.ndarray  # (N, N) model FC of that candidate
    wall_s: float
    compile_s: float
    terms: dict[str, np.ndarray] = field(default_factory=dict)  # each objective term (B,), NaN where flagged
    corr: np.ndarray | None = None  # (B,) FC correlation r with the target, NaN where flagged
    best_signal: np.ndarray | None = None  # (S, N) the best candidate's sampled signal (BOLD) before any band-pass
    best_signals: np.ndarray | None = None  # (R, S, N) that signal in each of its R noise realisations
    fic_infeasible: np.ndarray | None = None  # (B,) regions with no positive FIC weight per candidate (with FIC)
    rejected: dict[str, np.ndarray] = field(default_factory=dict)  # regional parameter → (B,) candidates out of range


def memory_budget(device: jax.Device) -> int:
    """Bytes one device may spend on a batch: most of its free memory, or a quarter of host RAM on CPU."""
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - some backends do not implement it
        stats = {}
    limit = stats.get("bytes_limit")
    if limit:
        return int(0.7 * (limit - stats.get("bytes_in_use", 0)))
    try:
        return int(0.25 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def candidates_that_fit(device: jax.Device, structure: network.Structure, sampling: network.Sampling | None,
                        dtype: Any, realizations: int) -> int:
    """How many candidates (each simulated ``realizations`` times) one device's memory budget holds at once."""
    per_cand = structure.memory_per_candidate(np.dtype(dtype).itemsize) * 3  # temporaries
    if sampling is not None:
        per_cand += 2 * sampling.n_samples * structure.n_nodes * np.dtype(dtype).itemsize
    return max(1, memory_budget(device) // (per_cand * realizations))


def out_of_memory(error: BaseException) -> bool:
    """Whether an error is the device running out of memory (XLA's RESOURCE_EXHAUSTED, at compile or run time)."""
    return isinstance(error, RuntimeError) and "RESOURCE_EXHAUSTED" in str(error)


def obs_steps_for(dt_ms: float) -> int:
    """Network steps per observation step: the most that keep it ≤ 1 ms."""
    return max(1, int(1.0 / dt_ms + 1e-9))


def fit_maps(config: FitConfig, dataset: Dataset, target_fc: np.ndarray) -> dict[str, np.ndarray]:
    """The scaled maps the configuration's coefficients name (the derived ``fcgradient`` from the target FC)."""
    needed = regional.map_names(tuple(config.bounds) + tuple(config.fixed))
    try:
        resolved = maps.resolve(needed, dataset, target_fc, config.maps)
    except DataError as e:
        raise ConfigError(str(e)) from None
    if config.map_permutation:  # the control of --map-control permute: the maps' values shuffled
        resolved = nulls.permute_maps(resolved, only=config.permuted_maps, seed=config.seed,
                                      index=config.map_permutation, hemisphere=edges.dataset_hemispheres(dataset))
    return resolved


def batch_result(spec: terms.ObjectiveSpec, outputs: tuple[Any, ...], *, real: int, usable: np.ndarray,
                 out_of_range: np.ndarray, frac: np.ndarray, per_device: int, wall_s: float, compile_s: float,
                 fic_bad: np.ndarray | None, rejected: dict[str, np.ndarray]) -> BatchResult:
    """A batch's device outputs (loss, finite, flat, corr, parts, best FCs[, best signals]) as its BatchResult."""
    loss, finite, flat, corr, parts, best_fcs, *best_signals = outputs
    loss = np.asarray(loss, np.float64)[:real]
    finite = np.asarray(finite)[:real]
    flat = np.asarray(flat)[:real]
    corr = np.asarray(corr, np.float64)[:real]
    parts = np.asarray(parts, np.float64)[:real].T  # (terms, B)
    host = spec.host_terms
    if host:  # the device added them to the loss; the terms' own values are filled in here
        names = [n for n, _ in spec.terms]
        for name, _ in host:
            parts[names.index(name)] = np.where(finite & ~flat, frac[:real], np.nan)
    if not usable[:real].all() or out_of_range.any():
        bad = ~usable[:real] | out_of_range
        finite = finite & ~bad
        loss = np.where(bad, WORST_LOSS * sum(w for _, w in spec.terms), loss)
        corr = np.where(bad, np.nan, corr)
        parts = np.where(bad[None, :], np.nan, parts)
    flags = tuple("range" if o else ("nan" if not f else ("flat" if fl else ""))
                  for f, fl, o in zip(finite, flat, out_of_range))
    best = int(np.argmin(loss))
    # each device returned the FC of its own best (first minimum); the overall best is one of them
    fc = np.asarray(best_fcs, np.float64)[best // per_device]
    signal = signals = None
    if best_signals:
        signals = np.asarray(best_signals[0][best // per_device], np.float32)
        if signals.ndim == 2:
            signals = signals[None]  # one realisation
        signal = signals[0]
    return BatchResult(losses=loss, flags=flags, best_index=best, best_fc=fc, wall_s=wall_s, compile_s=compile_s,
                       terms={n: parts[i] for i, (n, _) in enumerate(spec.terms)}, corr=corr,
                       best_signal=signal, best_signals=signals, fic_infeasible=fic_bad, rejected=rejected)
