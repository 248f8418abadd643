"""Held-out checks: the best candidate of a fit scored on data it was not fitted to.

``--split MODE`` fits on some of the data's scans and tests on the rest (``engine.data.split``); ``--test DATA``
tests on another dataset of the same regions (another group, another scan day). After the fit the best
candidate's stored model FC is correlated with the test FC on the same edges as the fit, beside the structure
alone on those edges; with an FCD term its FCD values (every noise realisation's, from its stored BOLD, band-passed
as the fit did) are compared with the test FCD by the same exact two-sample KS. ``gap_caveat`` warns when the
test r falls ``GAP_WARNING`` or more below the train r.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.compare import matrix_corr
from engine.data.dataset import DataError, Dataset, load_dataset
from engine.model import fcd
from engine.model.target import build_target

#: A test r this far (or more) below the train r is warned about: the fit does not carry over to held-out data.
GAP_WARNING = 0.1


@dataclass(frozen=True, kw_only=True)
class HeldOut:
    """Train and test scores of one fit's best candidate, on the same edges."""

    check: str  # e.g. "split odd-even: scans 0,2 train, 1,3 test" or "test data day2"
    edges: str
    train_r: float | None
    test_r: float | None
    train_ks: float | None = None
    test_ks: float | None = None
    train_baseline: float | None = None  # structure alone against the training FC
    test_baseline: float | None = None  # structure alone against the test FC
    source: str = "stored simulation"  # where the scores come from: the search's stored best, or fresh noise

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN → None)."""
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "HeldOut":
        """Rebuild from ``to_dict``."""
        opt = lambda k: None if d.get(k) is None else float(d[k])  # noqa: E731
        return cls(check=str(d.get("check", "")), edges=str(d.get("edges", "all")), train_r=opt("train_r"),
                   test_r=opt("test_r"), train_ks=opt("train_ks"), test_ks=opt("test_ks"),
                   train_baseline=opt("train_baseline"), test_baseline=opt("test_baseline"),
                   source=str(d.get("source") or "stored simulation"))


def load_test_dataset(config: FitConfig, dataset: Dataset) -> Dataset | None:
    """The ``--test`` dataset, checked against the fitted one (same regions); None without ``--test``."""
    if not config.test_data:
        return None

    test = load_dataset(config.test_data)
    if test.n_nodes != dataset.n_nodes:
        raise DataError(f"--test {config.test_data}: {test.name} has {test.n_nodes} regions but {dataset.name} has "
                        f"{dataset.n_nodes}; a held-out check needs the same parcellation")
    return test


def test_target(config: FitConfig, dataset: Dataset, test: Dataset | None = None, n_samples: int | None = None):  # type: ignore[no-untyped-def]
    """The FitTarget of the held-out part: the split's test scans, or the ``--test`` dataset (ConfigError)."""

    if config.split:
        return build_target(config, dataset, n_samples, role="test")
    if test is None:
        raise ConfigError("no held-out data: pass --split or --test DATA")
    return build_target(config, test, n_samples, role="test")


def model_fcd_values(signals: np.ndarray, window: int, step: int, *, tr_s: float | None = None,
                     bandpass_hz: tuple[float, float] | None = None,
                     edges: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """FCD upper-triangle values of a candidate's signals (R, S, N), pooled over realisations, window FCs on
    ``edges`` (None: all); band-passed first (samples every ``tr_s``) when ``bandpass_hz`` is given, as the objective
    filters them."""

    out = []
    for x in np.asarray(signals, np.float64):
        if bandpass_hz is not None:
            x = fcd.Bandpass(tr_s=float(tr_s), low_hz=bandpass_hz[0], high_hz=bandpass_hz[1]).matrix(x.shape[0]) @ x  # type: ignore[arg-type]
        out.append(fcd.host_fcd_values(x, window, step, edges))
    return np.concatenate(out)


def ks_2samp(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic (exact ECDF distance), float64 numpy, as the objective's fcd_ks term."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    pts = np.concatenate([a, b])
    fa = np.searchsorted(a, pts, side="right") / a.size
    fb = np.searchsorted(b, pts, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def score_held_out(config: FitConfig, dataset: Dataset, *, best_fc: np.ndarray, train_r: float | None,
                   train_ks: float | None, train_target: Any, best_signals: np.ndarray | None = None,
                   test: Dataset | None = None, held_target: Any = None) -> HeldOut:
    """Train and test scores of the best candidate (its model FC, and for KS its signals (R, S, N)); the held-out
    target is ``held_target`` when given (``engine.prepare``), else built here."""

    tgt = held_target if held_target is not None else test_target(config, dataset, test)
    if config.split:
        check = f"split {tgt.split.describe()}"
    else:
        check = f"test data {test.name if test is not None else config.test_data}"
    test_r = matrix_corr(best_fc, tgt.fc, tgt.edge_index)
    test_ks = None
    if config.objective_spec.needs_fcd and tgt.fcd_sorted is not None and best_signals is not None:
        model = model_fcd_values(best_signals, tgt.fcd_window, tgt.fcd_step, tr_s=tgt.tr_s,
                                 bandpass_hz=config.bandpass_hz, edges=tgt.fcd_edge_index)
        test_ks = ks_2samp(model, tgt.fcd_sorted)
    base = getattr(train_target, "structural_baseline", None)
    return HeldOut(check=check, edges=config.edges, train_r=train_r, test_r=test_r,
                   train_ks=train_ks if config.objective_spec.needs_fcd else None, test_ks=test_ks,
                   train_baseline=None if base is None else float(base),
                   test_baseline=float(tgt.structural_baseline))


def gap_caveat(held: HeldOut) -> str | None:
    """A warning when the test r falls ``GAP_WARNING`` or more below the train r (or below the structure alone)."""
    tr, te = held.train_r, held.test_r
    if tr is None or te is None or tr != tr or te != te:
        return None
    b = held.test_baseline
    if tr - te >= GAP_WARNING:
        gap = f"held-out check ({held.check}): test r {te:.3f} falls {tr - te:.3f} below train r {tr:.3f} (≥ {GAP_WARNING:g})"
        if b is not None and b == b and te > b:
            return (f"{gap}: the fit carries over only in part (the test data's structure alone scores {b:.3f}); "
                    f"judge it by the test r")
        return f"{gap}: the fit does not carry over to data it was not fitted to"
    if b is not None and b == b and te <= b:
        return (f"held-out check ({held.check}): test r {te:.3f} is no better than the structure alone on the test "
                f"data ({b:.3f})")
    return None
