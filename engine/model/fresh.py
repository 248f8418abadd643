"""The fresh-noise verdict: a fit's best point (and the optimizer's recommendation) simulated again with R noise seeds
the search never saw, in one batched call, and scored independently in numpy float64 against the fitted target and
the held-out one.

A search reports the minimum loss over many candidates that shared one noise realisation: a best-of-N number biased
towards lucky draws. The verdict's mean ± sd over new seeds is the number a reviewer accepts. Each lane gets its own
noise (seed ``FRESH_SEED_OFFSET + seed``, folded with the lane), one realisation each; ``pooled_fc_corr`` is the r of the
seeds' mean FC, comparable with a fit that scored R realisations' mean FC. Beside the objective's terms it always
reports the model's mean FC against the data's and, where the data has an FCD, the FCD KS (an FC-only fit included),
because r sees neither the FC's level nor whether it wanders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.compare import matrix_corr, upper
from engine.data.dataset import DataError, Dataset, functional_connectivity
from engine.model import fcd
from engine.model.heldout import ks_2samp
from engine.model.regime import node_regimes
from engine.model.target import FitTarget, align_group_fcd
from engine.model.tradeoff import LEVEL_BAR

#: Added to the fit's seed for the verdict's noise: far from the seeds a fit's realisations use (seed … seed + 63).
FRESH_SEED_OFFSET = 1_000_003
#: Noise seeds of a verdict unless the configuration says otherwise.
DEFAULT_SEEDS = 4
#: A model mean FC this far from the data's is reported (near-global synchrony, or no correlation at all).
LEVEL_WARNING = LEVEL_BAR


def _stats(xs: Sequence[float]) -> tuple[float | None, float | None]:
    """(mean, sd) of the finite values (sd with ddof 1; 0 for one value), or (None, None)."""
    a = np.asarray([x for x in xs if x is not None and math.isfinite(x)], np.float64)
    if a.size == 0:
        return None, None
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


@dataclass(frozen=True, kw_only=True)
class Scores:
    """One point's scores against one target, one entry per fresh seed."""

    fc_corr: tuple[float, ...]
    mean_fc: tuple[float, ...]
    fcd_ks: tuple[float, ...] | None
    data_mean_fc: float
    pooled_fc_corr: float | None = None  # r of the seeds' mean FC

    def to_dict(self) -> dict[str, Any]:
        """Means and sds (JSON-ready; None where undefined)."""
        r, r_sd = _stats(self.fc_corr)
        m, m_sd = _stats(self.mean_fc)
        k, k_sd = _stats(self.fcd_ks or ())
        return {"fc_corr_mean": r, "fc_corr_sd": r_sd, "fcd_ks_mean": k, "fcd_ks_sd": k_sd, "mean_fc_mean": m,
                "mean_fc_sd": m_sd, "data_mean_fc": _finite(self.data_mean_fc),
                "pooled_fc_corr": _finite(self.pooled_fc_corr)}


@dataclass(frozen=True, kw_only=True)
class PointVerdict:
    """A point's fresh-noise scores on the fitted target (with every objective term) and on the test target."""

    params: Mapping[str, float]
    train: Scores
    terms: Mapping[str, tuple[float, ...]]
    loss: tuple[float, ...]
    test: Scores | None = None
    fic_infeasible: int | None = None  # regions FIC cannot hold at this point
    node_regime: Mapping[str, Any] | None = None  # each region's regime at its FIC-held rate (engine.model.regime)

    def to_dict(self) -> dict[str, Any]:
        """The train scores at the top level, every term's mean and sd, and the test scores under ``test``."""
        out = self.train.to_dict()
        loss, loss_sd = _stats(self.loss)
        out.update(params=dict(self.params), loss_mean=loss, loss_sd=loss_sd,
                   terms={n: dict(zip(("mean", "sd"), _stats(v))) for n, v in self.terms.items()},
                   fic_infeasible=self.fic_infeasible, node_regime=self.node_regime,
                   test=None if self.test is None else self.test.to_dict())
        return out


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The fresh-noise verdict of a fit: the best point, and the recommendation when it is another point."""

    seeds: int
    seed: int
    best: PointVerdict
    recommendation: PointVerdict | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON: {seeds, seed, fc_corr_mean, fc_corr_sd, fcd_ks_mean, mean_fc_mean, …, test: {…}, recommendation}."""
        out: dict[str, Any] = {"seeds": self.seeds, "seed": self.seed}
        out.update(self.best.to_dict())
        out["recommendation"] = None if self.recommendation is None else self.recommendation.to_dict()
        out["notes"] = list(self.notes)
        return out


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _verdict_configs(config: FitConfig, dataset: Dataset, lanes: int) -> list[FitConfig]:
    """The fit's settings for the verdict's lanes: own noise per lane from a seed the search never used, one
    realisation each; first with an FCD KS term where the data may allow one (an FC-only fit is judged on its FCD
    too), then without."""
    base = config.replace(common_noise=False, seed=config.seed + FRESH_SEED_OFFSET, batch=lanes, budget=lanes,
                          start=None, realizations=1, optimizer="RandomSearch" if config.optimizer == "Grid"
                          else config.optimizer)
    if base.objective_spec.needs_fcd or not _sampled(config):
        return [base]
    try:
        return [align_group_fcd(base.replace(objective=f"{base.objective}+fcd_ks"), dataset), base]
    except ConfigError:
        return [base]


def _objective(configs: list[FitConfig], dataset: Dataset) -> Any:
    """The first of ``configs`` an objective can be built for (the FCD may not fit the data or the duration)."""
    from engine.model.objective import Objective  # lazy: the objective compiles JAX functions

    for cfg in configs[:-1]:
        try:
            return Objective(dataset, cfg)
        except (ConfigError, DataError, ValueError):
            continue
    return Objective(dataset, configs[-1])


def _sampled(config: FitConfig) -> bool:
    from engine.model import observe

    return bool(observe.REGISTRY[config.observe].sampled)


def _scores(series: Sequence[np.ndarray], target: FitTarget, *, tr_s: float | None,
            bandpass_hz: tuple[float, float] | None) -> tuple[Scores, list[np.ndarray], list[dict[str, float]]]:
    """Scores of each lane's signal (S, N) against ``target``; also each lane's FC and its numpy terms."""
    fcs, rs, means, kss, parts = [], [], [], [], []
    for y in series:
        x = np.asarray(y, np.float64)
        if bandpass_hz is not None:
            x = fcd.Bandpass(tr_s=float(tr_s), low_hz=bandpass_hz[0], high_hz=bandpass_hz[1]).matrix(x.shape[0]) @ x  # type: ignore[arg-type]
        fc = functional_connectivity(x) if np.isfinite(x).all() else np.full((x.shape[1],) * 2, np.nan)
        fcs.append(fc)
        r = matrix_corr(fc, target.fc, target.edge_index)
        model_edges, data_edges = upper(fc, target.edge_index), upper(target.fc, target.edge_index)
        mean = float(np.mean(model_edges))
        ks = math.nan
        if target.fcd_sorted is not None and np.isfinite(x).all():
            ks = ks_2samp(fcd.host_fcd_values(x, target.fcd_window, target.fcd_step, target.fcd_edge_index),
                          target.fcd_sorted)
        rs.append(r)
        means.append(mean)
        kss.append(ks)
        parts.append({"fc": 1.0 - r, "fc_rmse": float(np.sqrt(np.mean((model_edges - data_edges) ** 2))),
                      "fc_level": abs(mean - float(np.mean(data_edges))), "fcd_ks": ks})
    pooled = matrix_corr(np.mean(fcs, axis=0), target.fc, target.edge_index) if len(fcs) > 1 else None
    scores = Scores(fc_corr=tuple(rs), mean_fc=tuple(means), fcd_ks=None if target.fcd_sorted is None else tuple(kss),
                    data_mean_fc=float(np.mean(upper(target.fc, target.edge_index))), pooled_fc_corr=pooled)
    return scores, fcs, parts


def fresh_verdict(config: FitConfig, dataset: Dataset, points: Sequence[Mapping[str, float]], *, seeds: int,
                  test_dataset: Dataset | None = None) -> Verdict:
    """Simulate each point with ``seeds`` fresh noise seeds in one batched call and score it (train and test)."""
    from engine.model.heldout import test_target

    if seeds < 1 or not points:
        raise ValueError("a fresh-noise verdict needs at least one seed and one point")
    names = config.names
    obj = _objective(_verdict_configs(config, dataset, len(points) * seeds), dataset)
    vcfg = obj.config
    values = np.repeat(np.array([[p[n] for n in names] for p in points], np.float64), seeds, axis=0)
    fic = obj.fic_infeasible(values)
    held = obj.operating_point(values[::seeds])
    regimes = [None] * len(points) if held is None else [r.to_dict() for r in node_regimes(held)]
    notes = []
    test_tgt = None
    if config.split or config.test_data:
        tries = [vcfg] if vcfg.objective == config.objective else [vcfg, vcfg.replace(objective=config.objective)]
        note = ""
        for cfg in tries:  # with the KS, else without
            try:
                test_tgt = test_target(cfg, dataset, test_dataset)
                break
            except (ConfigError, DataError, ValueError) as e:
                note = f"no held-out scores: {e}"
        if test_tgt is None:
            notes.append(note)
    if not _sampled(config):  # raw rE: the objective's own terms per lane (no signal is kept to score again)
        res = obj(values)
        out = []
        for i, p in enumerate(points):
            sl = slice(i * seeds, (i + 1) * seeds)
            corr = tuple(float(x) for x in np.asarray(res.corr)[sl]) if res.corr is not None else ()
            train = Scores(fc_corr=corr, mean_fc=(), fcd_ks=None, data_mean_fc=obj.target.mean_fc)
            out.append(PointVerdict(params=dict(p), train=train, loss=tuple(float(x) for x in res.losses[sl]),
                                    terms={n: tuple(float(x) for x in v[sl]) for n, v in res.terms.items()},
                                    fic_infeasible=None if fic is None else int(fic[i * seeds]),
                                    node_regime=regimes[i]))
        return Verdict(seeds=seeds, seed=vcfg.seed, best=out[0], recommendation=out[1] if len(out) > 1 else None,
                       notes=tuple(notes + ["raw rE: mean FC and held-out scores need a sampled observation"]))
    samples = obj.samples(values)  # (B, S, N) before any band-pass
    spec = config.objective_spec
    out = []
    for i, p in enumerate(points):
        lanes = list(samples[i * seeds:(i + 1) * seeds])
        train, _, parts = _scores(lanes, obj.target, tr_s=obj.target.tr_s, bandpass_hz=config.bandpass_hz)
        frac = 0.0 if fic is None else float(fic[i * seeds]) / dataset.n_nodes
        for d in parts:
            d["fic"] = frac
        terms = {n: tuple(float(d.get(n, math.nan)) for d in parts) for n, _ in spec.terms}
        loss = tuple(float(sum(w * d.get(n, math.nan) for n, w in spec.terms)) for d in parts)
        test = None
        if test_tgt is not None:
            test = _scores(lanes, test_tgt, tr_s=test_tgt.tr_s, bandpass_hz=config.bandpass_hz)[0]
        out.append(PointVerdict(params=dict(p), train=train, terms=terms, loss=loss, test=test,
                                fic_infeasible=None if fic is None else int(fic[i * seeds]), node_regime=regimes[i]))
    return Verdict(seeds=seeds, seed=vcfg.seed, best=out[0], recommendation=out[1] if len(out) > 1 else None,
                   notes=tuple(notes))


def level_caveat(verdict: Mapping[str, Any] | None) -> str | None:
    """A warning when the fresh runs' mean FC is ``LEVEL_WARNING`` or more from the data's (synchrony or none)."""
    if not verdict:
        return None
    m, d = verdict.get("mean_fc_mean"), verdict.get("data_mean_fc")
    if m is None or d is None or abs(m - d) < LEVEL_WARNING:
        return None
    kind = "near-global synchrony" if m > 0.8 else ("too synchronous" if m > d else "too little correlation")
    return (f"the model's mean FC {m:.2f} is {abs(m - d):.2f} from the data's {d:.2f} on the scored edges ({kind}); "
            f"r cannot see the level: add the fc_level term or judge the fit by it")


def fic_caveat(infeasible: int | None, n_nodes: int) -> str | None:
    """A warning naming how many regions FIC cannot hold at the best point."""
    if not infeasible:
        return None
    return (f"FIC cannot hold {infeasible} of {n_nodes} regions at the best point (wIE clipped to 0, the region off "
            "fic_target): add the fic term to the objective to penalise it, or lower fic_target or the drive")
