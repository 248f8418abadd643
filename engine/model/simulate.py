"""Simulate one candidate and keep what a notebook wants to look at: rE, BOLD, FC, FCD and the scores.

``wcfit-tui simulate … --out FILE.npz`` writes ``rE`` (T × N, the mean of rE over each 1 ms from t = 0),
``bold`` (T_TR × N, the samples that enter the FC: the BOLD signal minus ``bold_level``) with ``t_bold`` (ms),
``bold_level`` (N, the BOLD of the fixed point each lane's samples are deviations from, float64 on the host:
``bold + bold_level`` is the BOLD signal itself, without a band-pass), ``fc`` (the FC the objective scored),
``fcd`` (W × W) with ``fcd_window`` and ``fcd_step`` (samples), ``target_fc``, and ``labels`` (N region names,
the columns of rE and bold and the rows and columns of the FCs) when the dataset has them, and ``param_NAME`` (N,) for
every parameter whose value differs over regions (maps, FIC's ``wIE``). The numbers are the
objective's: the same segments, the same noise (evaluation 0 of the seed), the same terms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.model import fcd
from engine.model import network as model
from engine.model.hemo import BALLOON
from engine.model.objective import Objective
from engine.model.simulate_scoring import realisation_scores


@dataclass(frozen=True, kw_only=True)
class Simulation:
    """One simulated candidate: its parameters, signals, FC, FCD and scores."""

    params: Mapping[str, float]  # every parameter's value
    rE: np.ndarray  # (T_ms, N) mean rE over each 1 ms
    bold: np.ndarray  # (S, N) the samples that entered the FC (empty when rE is observed)
    t_bold: np.ndarray  # (S,) ms
    fc: np.ndarray  # (N, N)
    fcd: np.ndarray  # (W, W), empty without a sampled observation
    fcd_window: int
    fcd_step: int
    target_fc: np.ndarray
    loss: float
    terms: Mapping[str, float]
    fc_corr: float
    flag: str  # "" | "nan" | "flat"
    structural_baseline: float
    wall_s: float
    held_out: Mapping[str, Any] | None = None  # train/test scores under --split/--test (engine.model.heldout)
    regional: Mapping[str, np.ndarray] = field(default_factory=dict)  # parameter → (N,) where regions differ
    bold_level: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (N,) BOLD of the samples' fixed point


def bold_level_of(u0: np.ndarray) -> np.ndarray:
    """BOLD of the Balloon–Windkessel fixed point of constant input u0, in float64 (Friston 2003's constants)."""
    p = BALLOON
    u0 = np.asarray(u0, np.float64)
    f0 = 1.0 + u0 / p.gamma
    v0 = f0 ** p.alpha
    q0 = v0 * -np.expm1(np.log1p(-p.rho) / f0) / p.rho
    return p.V0 * (p.k1 * (1.0 - q0) + p.k2 * (1.0 - q0 / v0) + p.k3 * (1.0 - v0))


def _ms_means(rates: np.ndarray, carry: np.ndarray, per_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over whole milliseconds of ``carry`` + ``rates`` (steps, N); the leftover steps carry over."""
    x = np.concatenate([carry, rates]) if carry.size else rates
    whole = x.shape[0] // per_ms * per_ms
    means = x[:whole].reshape(-1, per_ms, x.shape[1]).astype(np.float64).mean(axis=1)
    return means, x[whole:]


def simulate(config: FitConfig, dataset: Dataset, values: Mapping[str, float], *,
             progress: Callable[[float], None] | None = None) -> Simulation:
    """Simulate one candidate (fitted parameters from ``values``, the rest as configured) and score it."""
    t0 = time.perf_counter()
    one = config.replace(batch=1, budget=1)
    obj = Objective(dataset, one, devices=jax.local_devices()[:1], chunk=1)
    x = np.array([[values.get(n, one.values()[n]) for n in obj.names]], np.float32)
    vals = {k: jnp.asarray(v) for k, v in obj.params.inputs(x).items()}
    lanes = jnp.zeros((1,), jnp.int32)
    s = obj.structure
    init = jax.jit(obj._init_chunk)  # noqa: SLF001 - the objective's own chunk functions, one lane
    seg = jax.jit(lambda st, v, b: model.run_blocks(obj.sim, obj.params.of(v), st, b, obj.segment_blocks,
                                                    record=True), donate_argnums=0)
    score = jax.jit(obj._score_chunk)  # noqa: SLF001
    state = init(vals, lanes)
    per_ms = max(1, int(round(1.0 / config.dt_ms)))
    carry = np.zeros((0, s.n_nodes), np.float32)
    means: list[np.ndarray] = []
    left = config.n_steps
    for i in range(obj.n_segments):
        state, rates = seg(state, vals, jnp.asarray(i * obj.segment_blocks, jnp.int32))
        r = np.asarray(rates[:, :, 0])[:left]
        left -= r.shape[0]
        m, carry = _ms_means(r, carry, per_ms)
        means.append(m)
        if progress is not None:
            progress(min((i + 1) * obj.segment_ms, config.duration_ms))
    loss, finite, flat, corr, parts, fcs = (np.asarray(a) for a in score(state))
    fc = np.asarray(fcs[0], np.float64)
    bold = np.zeros((0, s.n_nodes))
    t_bold = np.zeros((0,))
    fcd_mat = np.zeros((0, 0))
    level = np.zeros(0)
    if obj.sampling is not None:
        if config.observe == "bold":  # the samples are deviations from the fixed point of the state's reference input
            level = bold_level_of(np.asarray(state.obs.u0)[:, 0])
        y = np.asarray(state.samples, np.float64)
        if obj._band is not None:  # noqa: SLF001
            y = np.einsum("st,tnc->snc", obj._band, y)  # noqa: SLF001
        bold = y[:, :, 0]
        t_bold = obj.sampling.sample_times_ms()
        if obj.sampling.n_samples >= obj.target.fcd_window:
            fcd_mat = np.asarray(fcd.fcd_matrix(jnp.asarray(y, jnp.float32), obj.target.fcd_window,
                                                obj.target.fcd_step))[:, :, 0].astype(np.float64)
    flag = "nan" if not finite[0] else ("flat" if flat[0] else "")

    loss, parts, corr, fc, flag, held = realisation_scores(obj, x, loss, parts, corr, fc, flag)
    per_region = {n: np.asarray(v, np.float64)[:, 0] for n, v in obj.params.of(vals).items()
                  if jnp.ndim(v) == 2 and not n.startswith("_")}
    return Simulation(params=one.values(dict(zip(obj.names, x[0].astype(float)))),
                      rE=np.concatenate(means) if means else np.zeros((0, s.n_nodes)),
                      bold=bold, t_bold=t_bold, fc=fc, fcd=fcd_mat, fcd_window=obj.target.fcd_window,
                      fcd_step=obj.target.fcd_step, target_fc=np.asarray(obj.target.fc, np.float64),
                      loss=float(loss[0]), terms={n: float(parts[i, 0]) for i, (n, _) in enumerate(obj.spec.terms)},
                      fc_corr=float(corr[0]), flag=flag, structural_baseline=obj.target.structural_baseline,
                      wall_s=time.perf_counter() - t0, held_out=held,
                      regional=per_region, bold_level=level)


def summary_dict(sim: Simulation, config: FitConfig) -> dict[str, Any]:
    """The scores of a simulation as a JSON-ready dict."""
    nan = lambda v: None if v != v else v  # noqa: E731 - JSON has no NaN
    return {"params": dict(sim.params), "fixed": dict(config.fixed), "observe": config.observe, "objective": config.objective,
            "loss": sim.loss, "terms": {k: nan(v) for k, v in sim.terms.items()}, "fc_corr": nan(sim.fc_corr),
            "flag": sim.flag, "structural_baseline": sim.structural_baseline, "duration_ms": config.duration_ms,
            "transient_ms": config.transient_ms, "samples": int(sim.bold.shape[0]), "wall_s": round(sim.wall_s, 3),
            "edges": config.edges, "realizations": config.realizations, "held_out": sim.held_out}


def save(sim: Simulation, dataset: Dataset, out: Path) -> None:
    """Write a simulation's signals, FC and FCD (and the dataset's region labels) to an .npz file."""
    extra: dict[str, Any] = {} if dataset.labels is None else {"labels": np.array(dataset.labels, dtype=np.str_)}
    extra.update({f"param_{n}": v for n, v in sim.regional.items()})  # parameters that differ over regions (N,)
    np.savez(out, rE=sim.rE.astype(np.float32), bold=sim.bold, bold_level=sim.bold_level, t_bold=sim.t_bold,
             fc=sim.fc, fcd=sim.fcd,
             fcd_window=np.int64(sim.fcd_window), fcd_step=np.int64(sim.fcd_step), target_fc=sim.target_fc,
             **extra)
