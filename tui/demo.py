"""Deterministic synthetic engine events, for tests, snapshots and screenshots (no JAX involved)."""

from __future__ import annotations

import math

import numpy as np

from engine import presets
from engine.config import FitConfig
from engine.events import (
    BatchEvaluated,
    Compiling,
    Event,
    Finished,
    NewBest,
    Started,
    Summary,
    Warned,
)
from engine.proposers import GridProposer, budget_of
from engine.search import bound_warnings

T0 = 1_700_000_000.0  # a fixed clock, so logs and snapshots do not depend on the time of day


def synthetic_run(target_fc: np.ndarray, *, batches: int = 10, batch: int = 4, finish: bool = True,
                  seed: int = 0) -> list[Event]:
    """Events of a plausible fit of k and sigma: losses fall towards 0.4 as k nears its upper bound (3), as on the
    bundled data, so the run ends with the "widen the bounds" warning."""
    rng = np.random.default_rng(seed)
    cfg = FitConfig(bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={}, batch=batch, budget=batches * batch)
    n = target_fc.shape[0]
    events: list[Event] = [Started(config=cfg, target_fc=target_fc, dataset="hcp80 (bundled)",
                                   device="1× cpu (synthetic)", time=T0),
                           Compiling(batch=batch, time=T0 + 1)]
    best = math.inf
    noise = rng.normal(0, 0.25, (n, n))
    noise = (noise + noise.T) / 2
    for b in range(batches):
        lo = 0.5 + 2.3 * b / max(1, batches - 1)  # the search closes in on the upper bound, like DE does here
        vals = np.column_stack([rng.uniform(lo, 3.0, batch), rng.uniform(0.0, 0.2, batch)])
        if b == batches - 1:
            vals[0] = (2.99, 0.06)  # the best lands on the upper bound of k
        losses = 0.4 + 0.15 * (vals[:, 0] - 3.3) ** 2 + 0.8 * (vals[:, 1] - 0.06) ** 2 + rng.normal(0, 0.01, batch)
        flags = tuple("nan" if (b == 3 and i == 0) else "" for i in range(batch))
        losses = np.where([f == "nan" for f in flags], 2.0, losses)
        i = int(np.argmin(losses))
        improved = bool(losses[i] < best)
        best = float(losses[i]) if improved else best
        t = T0 + 2 + b
        events.append(BatchEvaluated(batch_index=b, first_evaluation=b * batch, names=cfg.names, values=vals,
                                     losses=losses, flags=flags, wall_s=0.5, compile_s=3.0 if b == 0 else 0.0,
                                     evaluations=(b + 1) * batch, candidates_per_s=batch / 0.5,
                                     sim_s_per_s=batch * 6 / 0.5, best_loss=float(best), time=t))
        if improved:
            mix = min(1.0, 1.1 - best)
            fc = mix * target_fc + (1 - mix) * noise
            np.fill_diagonal(fc, 1.0)
            events.append(NewBest(evaluation=b * batch + i, params=dict(zip(cfg.names, map(float, vals[i]))),
                                  loss=float(best), model_fc=fc, time=t))
        if "nan" in flags:
            events.append(Warned(message=f"1 candidate(s) in batch {b + 1} diverged (nan); they got the worst loss "
                                         "and the fit goes on", time=t))
    if finish:
        last = [e for e in events if isinstance(e, NewBest)][-1]
        warnings = tuple(bound_warnings(cfg.names, np.array([last.params[n] for n in cfg.names]), dict(cfg.bounds)))
        events += [Warned(message=w, time=T0 + 3 + batches) for w in warnings]
        events.append(Finished(summary=Summary(
            status="finished", reason="budget spent", names=cfg.names, best_params=dict(last.params),
            best_loss=last.loss, recommendation={n: v * 0.995 for n, v in last.params.items()},
            recommendation_loss=last.loss + 0.004,
            evaluations=batches * batch, nan_candidates=1, wall_s=float(batches) * 0.5, device="1× cpu (synthetic)",
            warnings=warnings), time=T0 + 3 + batches))
    return events


def _with_extra(cls, **fields):
    """An event of ``cls`` with fields the engine may not have yet (``terms``, ``structural_baseline``): a subclass
    carries them until the engine's own event does."""
    import dataclasses

    own = {f.name for f in dataclasses.fields(cls)}
    extra = {k: v for k, v in fields.items() if k not in own}
    if not extra:
        return cls(**fields)
    sub = dataclasses.make_dataclass(f"{cls.__name__}Plus", [(k, object) for k in extra], bases=(cls,), frozen=True,
                                     kw_only=True)
    return sub(**fields)


def grid_loss(k: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A smooth synthetic landscape over (k, sigma): the fc term (lowest at k = 2.2, sigma = 0.06) and an fcd_ks term."""
    fc = 0.42 + 0.08 * (k - 2.2) ** 2 + 6.0 * (sigma - 0.06) ** 2
    ks = 0.2 + 0.1 * np.abs(k - 1.5) + 2.0 * sigma
    return fc, ks


def synthetic_grid_run(target_fc: np.ndarray, *, budget: int = 30, batch: int = 4, terms: bool = False,
                       baseline: float | None = None, finish: bool = True, diverged: int | None = None) -> list[Event]:
    """Events of a Grid run over k × sigma (GridProposer's own points); ``terms`` adds per-candidate fc/fcd_ks terms
    (loss = fc + 0.5·fcd_ks), ``baseline`` a structural_baseline on Started, ``diverged`` flags that evaluation."""
    cfg = FitConfig(bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={}, optimizer="Grid", batch=batch,
                    budget=budget)
    start = dict(config=cfg, target_fc=target_fc, dataset="hcp80 (bundled)", device="1× cpu (synthetic)", time=T0)
    if baseline is not None:
        start["structural_baseline"] = baseline
    events: list[Event] = [_with_extra(Started, **start), Compiling(batch=batch, time=T0 + 1)]
    proposer = GridProposer(np.array([cfg.bounds[n] for n in cfg.names]), budget=cfg.budget)
    total = budget_of(cfg)
    best, b, done = None, 0, 0
    while done < total:
        vals = proposer.ask(min(batch, total - done))
        fc, ks = grid_loss(vals[:, 0], vals[:, 1])
        losses = fc + 0.5 * ks if terms else fc
        flags = tuple("nan" if diverged == done + i else "" for i in range(len(vals)))
        losses = np.where([bool(f) for f in flags], 2.0, losses)
        ok = [i for i in range(len(vals)) if not flags[i]]
        i = min(ok, key=lambda j: losses[j]) if ok else 0
        improved = bool(ok) and (best is None or losses[i] < best)
        best = float(losses[i]) if improved else best
        t = T0 + 2 + b
        fields = dict(batch_index=b, first_evaluation=done, names=cfg.names, values=vals, losses=losses, flags=flags,
                      wall_s=0.5, compile_s=0.0, evaluations=done + len(vals), candidates_per_s=len(vals) / 0.5,
                      sim_s_per_s=len(vals) * 6 / 0.5, best_loss=float(best if best is not None else 2.0), time=t)
        if terms:
            fields["terms"] = {"fc": fc, "fcd_ks": ks}
        events.append(_with_extra(BatchEvaluated, **fields))
        if improved:
            mix = min(1.0, 1.1 - float(fc[i]))
            events.append(NewBest(evaluation=done + i, params=dict(zip(cfg.names, map(float, vals[i]))),
                                  loss=float(losses[i]), model_fc=mix * target_fc, time=t))
        done += len(vals)
        b += 1
    if finish:
        last = [e for e in events if isinstance(e, NewBest)][-1]
        events.append(Finished(summary=Summary(
            status="finished", reason="budget spent", names=cfg.names, best_params=dict(last.params),
            best_loss=last.loss, recommendation=dict(last.params), recommendation_loss=last.loss, evaluations=total,
            nan_candidates=int(diverged is not None), wall_s=0.5 * b, device="1× cpu (synthetic)"), time=T0 + 3 + b))
    return events


def bold_signal(n_nodes: int, samples: int, *, seed: int = 0, coupling: float = 0.5) -> np.ndarray:
    """A (samples, N) slow random signal with a shared component (a stand-in for simulated BOLD)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((samples, n_nodes))
    shared = np.zeros(samples)
    for t in range(1, samples):
        shared[t] = 0.9 * shared[t - 1] + rng.normal()
        x[t] = 0.8 * x[t - 1] + rng.normal(size=n_nodes) + coupling * shared[t]
    return x


def synthetic_bold_run(target_fc: np.ndarray, *, batches: int = 4, batch: int = 4, samples: int = 250,
                       tr_s: float = 0.72, baseline: float = 0.35, finish: bool = True) -> list[Event]:
    """Events of a BOLD fit of k and ext_E with the fc + 0.5·fcd_ks objective: every NewBest carries a known
    sampled signal (``bold_signal`` with the evaluation as seed) and terms; the summary warns."""
    cfg = presets.get("bold").config(objective="fc+0.5*fcd_ks", batch=batch, budget=batches * batch,
                                     duration_ms=samples * tr_s * 1000 + 20_000.0)
    n = target_fc.shape[0]
    rng = np.random.default_rng(1)
    events: list[Event] = [Started(config=cfg, target_fc=target_fc, dataset="hcp80 (bundled)",
                                   device="1× cpu (synthetic)", structural_baseline=baseline, time=T0),
                           Compiling(batch=batch, time=T0 + 1)]
    best = math.inf
    for b in range(batches):
        vals = np.column_stack([rng.uniform(1, 60, batch), rng.uniform(0, 0.3, batch)])
        fc = 0.5 + 0.0002 * (vals[:, 0] - 40) ** 2 + rng.normal(0, 0.01, batch)
        ks = 0.3 + 0.5 * np.abs(vals[:, 1] - 0.15)
        losses = fc + 0.5 * ks
        i = int(np.argmin(losses))
        improved = bool(losses[i] < best)
        best = float(losses[i]) if improved else best
        t = T0 + 2 + b
        events.append(BatchEvaluated(batch_index=b, first_evaluation=b * batch, names=cfg.names, values=vals,
                                     losses=losses, flags=("",) * batch, wall_s=2.0, compile_s=0.0,
                                     evaluations=(b + 1) * batch, candidates_per_s=batch / 2.0,
                                     sim_s_per_s=batch * cfg.simulated_seconds / 2.0, best_loss=float(best),
                                     terms={"fc": fc, "fcd_ks": ks}, corr=1.0 - fc, time=t))
        if improved:
            mix = min(1.0, 1.1 - float(fc[i]))
            events.append(NewBest(evaluation=b * batch + i, params=dict(zip(cfg.names, map(float, vals[i]))),
                                  loss=float(best), model_fc=mix * target_fc, terms={"fc": float(fc[i]), "fcd_ks": float(ks[i])},
                                  corr=1.0 - float(fc[i]), model_signal=bold_signal(n, samples, seed=b * batch + i),
                                  sample_tr_s=tr_s, time=t))
    if finish:
        last = [e for e in events if isinstance(e, NewBest)][-1]
        events.append(Finished(summary=Summary(
            status="finished", reason="budget spent", names=cfg.names, best_params=dict(last.params),
            best_loss=last.loss, recommendation=dict(last.params), recommendation_loss=last.loss,
            evaluations=batches * batch, nan_candidates=0, wall_s=2.0 * batches, device="1× cpu (synthetic)",
            warnings=(f"the best FC r {last.fc_corr:.3f} is no better than the structure alone (r {baseline:.3f})",),
            best_terms=dict(last.terms), best_fc_corr=last.corr, structural_baseline=baseline,
            objective=cfg.objective), time=T0 + 3 + batches))
    return events
