"""The engine against the seed's own code path (engine.model.reference), same parameters and key ("seed" stream)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine.model import network as model
from engine.model import reference
from engine.params import defaults

DURATION_MS = 300.0
N_STEPS = int(DURATION_MS // 0.1)


def _engine(ds, k: float, seed: int, *, speed: float = 2.0, per_lane_speed: bool = False, transient: int = 0,
            stream: str = "seed"):
    s = model.Structure.build(ds.cmat, ds.dmat, dt=0.1, speed_range=(speed, speed))
    p = {n: jnp.asarray(v, jnp.float32) for n, v in defaults().items()}
    p["k"] = jnp.asarray([k], jnp.float32)
    p["sigma"] = jnp.asarray(0.05, jnp.float32)
    p["signal_speed"] = jnp.asarray([speed] if per_lane_speed else speed, jnp.float32)
    stats, _ = jax.jit(lambda p: model.simulate_stats(p, s, batch=1, n_steps=N_STEPS, transient_steps=transient,
                                                      key=jax.random.PRNGKey(seed), per_candidate=False,
                                                      stream=stream))(p)
    fc = model.fc_from_stats(stats)
    corr = model.fc_correlation(jnp.asarray(ds.target_fc, jnp.float32), fc)
    return float(corr[0]), np.asarray(fc[:, :, 0]), float(stats.count)


def _reference(ds, k: float, seed: int, *, speed: float = 2.0):
    import brainstate

    sim = reference.make_simulation(ds.cmat, ds.dmat, ds.target_fc, duration_ms=DURATION_MS, signal_speed=speed,
                                    with_fc=True)
    brainstate.random.seed(seed)
    corr, fc = sim(k, 0.05)
    return float(corr), np.asarray(fc)


def _reference_series(ds, k: float, seed: int) -> np.ndarray:
    """The seed's stored rE series (T, N), one record per step."""
    import brainstate
    import brainunit as u

    with reference.seed_environment():
        brainstate.environ.set(dt=0.1 * u.ms)
        net = reference.make_network_class(ds.cmat, ds.dmat)(k=k, sigma=0.05, signal_speed=2.0)
        brainstate.random.seed(seed)
        brainstate.nn.init_all_states(net)
        return np.asarray(brainstate.transform.for_loop(net.step_run, np.arange(N_STEPS)))


@pytest.mark.parametrize("k,seed", [(1.0, 3), (2.5, 7)])
def test_bundled_equals_seed(bundled, k: float, seed: int) -> None:
    corr_e, fc_e, count = _engine(bundled, k, seed)
    corr_r, fc_r = _reference(bundled, k, seed)
    assert count == N_STEPS
    # measured: loss 1.5e-8 / 6e-8 (1 ulp), FC 6e-7 / 9.5e-7: the bounds fail a 3x larger difference
    assert abs((1 - corr_e) - (1 - corr_r)) < 1.5e-7
    assert np.abs(fc_e - fc_r).max() < 2.5e-6


def test_transient_equals_seed_series(bundled) -> None:
    import braintools

    transient = 700
    series = _reference_series(bundled, 2.0, 5)
    with reference.seed_environment():  # braintools' metrics as the seed ran them
        fc_r = np.asarray(braintools.metric.functional_connectivity(series[transient:]))
        corr_r = float(braintools.metric.matrix_correlation(jnp.asarray(bundled.target_fc), jnp.asarray(fc_r)))
    corr_e, fc_e, count = _engine(bundled, 2.0, 5, transient=transient)
    assert count == N_STEPS - transient
    # measured: FC 6.1e-7, r 3.7e-8 (float32 rounding). Bounds: 3x the FC's; the correlation's at a floor of 1e-6
    # (a few float32 ulps: another CPU or a GPU sums in another order), 25x its sub-ulp measure, 10x below 1e-5
    assert np.abs(fc_e - fc_r).max() < 2e-6
    assert abs(corr_e - corr_r) < 1e-6


def test_small_dataset_equals_seed(small) -> None:
    corr_e, fc_e, _ = _engine(small, 1.5, 11)
    corr_r, fc_r = _reference(small, 1.5, 11)
    # measured: r 1.0e-7, FC 8.3e-7: 3x the FC's, the correlation's at the 1e-6 floor (3x would be 3.1e-7)
    assert abs(corr_e - corr_r) < 1e-6
    assert np.abs(fc_e - fc_r).max() < 2.5e-6


def test_per_candidate_speed_equals_seed(bundled) -> None:
    """A fitted speed (per-lane delays, the lane-gather path) against the seed at that speed."""
    corr_e, fc_e, _ = _engine(bundled, 2.0, 13, speed=3.0, per_lane_speed=True)
    corr_r, fc_r = _reference(bundled, 2.0, 13, speed=3.0)
    # measured: r 1.5e-7, FC 9.5e-7: 3x the FC's, the correlation's at the 1e-6 floor (3x would be 4.5e-7)
    assert abs(corr_e - corr_r) < 1e-6
    assert np.abs(fc_e - fc_r).max() < 3e-6


def test_block_stream_loss_agrees_with_the_seed_stream(bundled) -> None:
    """The fast "block" noise scores like the seed's stream: mean losses over seeds agree within their standard error.

    (The test this replaces compared the difference of the means with the pooled spread, which holds for any
    numbers; this one compares it with the standard error of that difference.)
    """
    seeds = range(4)
    block = np.array([1 - _engine(bundled, 2.0, s, stream="block")[0] for s in seeds])
    seed = np.array([1 - _engine(bundled, 2.0, s, stream="seed")[0] for s in seeds])
    se = np.sqrt(block.var(ddof=1) / len(block) + seed.var(ddof=1) / len(seed))
    assert abs(block.mean() - seed.mean()) < 5 * se + 1e-4
    assert len(set(block.tolist())) == len(block)  # each seed is its own realisation


# ---------------------------------------------------------------------------
# the block stream's numbers and the OU process they drive (independent float64 statistics)


def _z_ok(x: np.ndarray, mean: float, var: float, z: float = 5.0) -> bool:
    """Whether samples ``x`` have the given mean and variance, within ``z`` standard errors (normal samples)."""
    n = x.size
    return abs(x.mean() - mean) < z * np.sqrt(var / n) and abs(x.var() / var - 1) < z * np.sqrt(2 / n)


def _max_abs_corr_ok(rows: np.ndarray, z: float = 5.0) -> bool:
    """Rows (series × samples) uncorrelated: the mean squared off-diagonal correlation is ≈ 1 / samples."""
    r = np.corrcoef(rows)
    off = r[~np.eye(len(r), dtype=bool)]
    n = rows.shape[1]
    return float(np.mean(off ** 2)) < (1 + z * np.sqrt(2 / off.size)) / n * 1.5 and np.abs(off).max() < 6 / np.sqrt(n)


def test_own_noise_block_stream_draws_independent_standard_normals(small) -> None:
    """Per-candidate noise: N(0, 1) per step, node, population and lane; consecutive steps and blocks independent."""
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))
    lanes = 32
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(9), i))(jnp.arange(lanes, dtype=jnp.int32))
    draw = jax.jit(lambda b: model.noise_block(keys, b, s, True, "block", jnp.float32)[1])
    xi = np.stack([np.asarray(draw(jnp.int32(b)), np.float64) for b in range(6)])  # (blocks, T, 2, N, lanes)
    assert xi.shape == (6, s.block, 2, s.n_nodes, lanes)
    assert _z_ok(xi, 0.0, 1.0)
    steps = xi.reshape(6 * s.block, 2, s.n_nodes, lanes)  # consecutive steps, across block boundaries
    lag1 = np.corrcoef(steps[:-1].ravel(), steps[1:].ravel())[0, 1]
    assert abs(lag1) < 5 / np.sqrt(steps[1:].size)
    # independence across nodes, populations and lanes (each as a series over the remaining axes)
    assert _max_abs_corr_ok(np.moveaxis(steps, 2, 0).reshape(s.n_nodes, -1))
    assert _max_abs_corr_ok(np.moveaxis(steps, 3, 0).reshape(lanes, -1))
    assert _max_abs_corr_ok(np.moveaxis(steps, 1, 0).reshape(2, -1))
    # no step's numbers are those of another step
    flat = steps.reshape(len(steps), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)


def test_common_noise_groups_draw_each_step_once(small) -> None:
    """Common noise is drawn a group of blocks at a time: every step of every block gets numbers of its own."""
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))
    key = jax.random.PRNGKey(4)
    groups = [np.asarray(model.noise_group(key, jnp.int32(g), s, model.NOISE_GROUP, jnp.float32), np.float64)
              for g in range(4)]
    xi = np.concatenate(groups)[..., 0]  # (blocks, T, 2, N): group g holds blocks G·g … G·g + G − 1
    assert xi.shape == (4 * model.NOISE_GROUP, s.block, 2, s.n_nodes)
    assert _z_ok(xi, 0.0, 1.0)
    steps = xi.reshape(-1, 2 * s.n_nodes)
    flat_blocks = xi.reshape(len(xi), -1)
    assert len(np.unique(steps, axis=0)) == len(steps)  # no step repeats another, within or across groups
    assert _max_abs_corr_ok(flat_blocks)  # blocks, also across a group boundary, are uncorrelated
    lag1 = np.corrcoef(steps[:-1].ravel(), steps[1:].ravel())[0, 1]
    assert abs(lag1) < 5 / np.sqrt(steps[1:].size)


@pytest.mark.parametrize("tau_ou,sigma", [(10.0, 0.05), (3.0, 0.12), (37.0, 0.02)])
def test_ou_step_constants_match_the_exact_discretisation(tau_ou: float, sigma: float) -> None:
    """o ← e^(−dt/τ) o + σ √(dt/τ) ξ: the exponential-Euler OU step, whose stationary std is σ/√2."""
    p = {n: jnp.asarray(v, jnp.float64) for n, v in defaults().items()}
    p["tau_ou"], p["sigma"] = jnp.asarray(tau_ou, jnp.float64), jnp.asarray(sigma, jnp.float64)
    c = model.node_constants(p, 0.1)
    assert float(c.ou_keep) == pytest.approx(np.exp(-0.1 / tau_ou), rel=1e-12)
    assert float(c.kick) == pytest.approx(sigma * np.sqrt(0.1 / tau_ou), rel=1e-12)


def _final_ou(ds, n_steps: int, *, lanes: int, per_candidate: bool, tau_ou: float, sigma: float,
              seed: int = 0) -> tuple[np.ndarray, int]:
    """The OU states (2, N, lanes) after simulating ``n_steps`` with the block stream (float64 copy)."""
    s = model.Structure.build(ds.cmat, ds.dmat, dt=0.1, speed_range=(2.0, 2.0))
    p = {n: jnp.asarray(v, jnp.float32) for n, v in defaults().items()}
    p["tau_ou"], p["sigma"] = jnp.asarray(tau_ou, jnp.float32), jnp.asarray(sigma, jnp.float32)
    key = jax.random.PRNGKey(seed)
    if per_candidate:
        key = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(lanes, dtype=jnp.int32))
    _, nodes = jax.jit(lambda p: model.simulate_stats(p, s, batch=lanes, n_steps=n_steps, transient_steps=0, key=key,
                                                      per_candidate=per_candidate, stream="block"))(p)
    return np.stack([np.asarray(nodes.oE, np.float64), np.asarray(nodes.oI, np.float64)]), s.block


@pytest.mark.slow
def test_simulated_ou_noise_has_its_parameters_distribution(small) -> None:
    """In the simulation (own noise, 64 lanes): the OU state's mean 0, variance b²(1 − a^2K)/(1 − a²), its
    lag-T autocorrelation a^T across one more block, and no correlation across nodes, populations or lanes."""
    tau_ou, sigma, lanes = 4.0, 0.09, 64
    a, b2 = np.exp(-0.1 / tau_ou), sigma ** 2 * 0.1 / tau_ou
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))
    k = 20 * s.block  # whole blocks: the state after exactly k steps
    o1, t = _final_ou(small, k, lanes=lanes, per_candidate=True, tau_ou=tau_ou, sigma=sigma)
    o2, _ = _final_ou(small, k + t, lanes=lanes, per_candidate=True, tau_ou=tau_ou, sigma=sigma)
    var = b2 * (1 - a ** (2 * k)) / (1 - a ** 2)
    assert _z_ok(o1, 0.0, var) and _z_ok(o2, 0.0, var)
    incr = o2 - a ** t * o1  # the last block's contribution: independent of the state before it
    assert _z_ok(incr, 0.0, b2 * (1 - a ** (2 * t)) / (1 - a ** 2))
    r = np.corrcoef(o1.ravel(), o2.ravel())[0, 1]
    assert abs(r - a ** t) < 5 * (1 - a ** (2 * t)) / np.sqrt(o1.size)
    assert abs(np.corrcoef(incr.ravel(), o1.ravel())[0, 1]) < 5 / np.sqrt(o1.size)
    assert _max_abs_corr_ok(np.moveaxis(o1, 1, 0).reshape(small.n_nodes, -1))  # nodes
    assert _max_abs_corr_ok(np.moveaxis(o1, 2, 0).reshape(lanes, -1))  # lanes
    assert abs(np.corrcoef(o1[0].ravel(), o1[1].ravel())[0, 1]) < 5 / np.sqrt(o1[0].size)  # E and I


@pytest.mark.slow
def test_simulated_common_noise_uses_each_group_block_once() -> None:
    """Common noise (drawn four blocks per call): identical across lanes, and with the variance of fresh numbers in
    every block (a group whose blocks reused one draw would give far larger variance)."""
    from tests.support import make_small_dataset

    ds = make_small_dataset(64, seed=3)
    tau_ou, sigma = 30.0, 0.05  # slow noise: what each block adds survives many blocks
    a, b2 = np.exp(-0.1 / tau_ou), sigma ** 2 * 0.1 / tau_ou
    s = model.Structure.build(ds.cmat, ds.dmat, dt=0.1, speed_range=(2.0, 2.0))
    k = 3 * model.NOISE_GROUP * s.block + s.block  # three whole groups and one block into the fourth
    o, _ = _final_ou(ds, k, lanes=2, per_candidate=False, tau_ou=tau_ou, sigma=sigma)
    assert np.array_equal(o[..., 0], o[..., 1])
    assert _z_ok(o[..., 0], 0.0, b2 * (1 - a ** (2 * k)) / (1 - a ** 2))


# ---------------------------------------------------------------------------
# every registry parameter, and the product's own path (Objective: config → fixed and fitted values → loss)

#: A non-default value of every registry parameter but k, sigma and signal_speed (tested above), all distinct from
#: each other's defaults too, so that swapping two parameters (tau_E and tau_I, ext_E and ext_I, …) changes the FC.
NON_DEFAULT = {"tau_ou": 7.0, "ext_E": 0.3, "ext_I": -0.2, "tau_E": 1.6, "tau_I": 2.5, "a_E": 1.5, "a_I": 0.9,
               "theta_E": 2.5, "theta_I": 4.3, "wEE": 11.0, "wIE": 4.5, "wEI": 12.5, "wII": 10.0, "r": 0.8}


def test_non_default_values_cover_the_registry() -> None:
    from engine.params import NAMES

    assert set(NON_DEFAULT) | {"k", "sigma", "signal_speed"} == set(NAMES)
    assert all(NON_DEFAULT[n] != defaults()[n] for n in NON_DEFAULT)


def _objective(ds, k: float, seed: int, fixed: dict[str, float], duration_ms: float, *, batch: int = 1,
               others: tuple[float, ...] = ()):
    """Loss and best FC of candidate k through the product's Objective, on the seed's noise stream."""
    from engine.config import FitConfig
    from engine.model.objective import Objective

    cfg = FitConfig(bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05, **fixed}, duration_ms=duration_ms, batch=batch,
                    seed=seed)
    res = Objective(ds, cfg, stream="seed")(np.array([[k], *([o] for o in others)]))
    return res


def _reference_p(ds, k: float, seed: int, duration_ms: float, node_params: dict[str, float] | None):
    import brainstate

    sim = reference.make_simulation(ds.cmat, ds.dmat, ds.target_fc, duration_ms=duration_ms, with_fc=True,
                                    node_params=node_params)
    brainstate.random.seed(seed)
    corr, fc = sim(k, 0.05)
    return float(corr), np.asarray(fc)


@pytest.mark.slow
def test_every_parameter_reaches_the_simulation_as_the_reference_has_it(small) -> None:
    """All parameters at non-default values, set as fixed values of a FitConfig, through the Objective, against
    the seed's brainmass network given the same values by name."""
    res = _objective(small, 1.5, 21, NON_DEFAULT, DURATION_MS)
    corr_r, fc_r = _reference_p(small, 1.5, 21, DURATION_MS, NON_DEFAULT)
    assert res.flags == ("",)
    # measured: FC 1.2e-6, loss 9.5e-7: bounds at 3x
    assert np.abs(res.best_fc - fc_r).max() < 4e-6
    assert abs(res.losses[0] - (1 - corr_r)) < 3e-6


@pytest.mark.slow
def test_each_parameter_changes_the_fc(small) -> None:
    """Each non-default value alone moves the FC far beyond the tolerance above (so a swap or a dropped value fails)."""
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))

    @jax.jit
    def fc_of(p):
        stats, _ = model.simulate_stats(p, s, batch=1, n_steps=N_STEPS, transient_steps=0, key=jax.random.PRNGKey(21),
                                        per_candidate=False, stream="seed")
        return model.fc_from_stats(stats)[:, :, 0]

    def params(values: dict[str, float]):
        p = {n: jnp.asarray(v, jnp.float32) for n, v in {**defaults(), "sigma": 0.05, **values}.items()}
        p["k"] = jnp.asarray([1.5], jnp.float32)
        return p

    base = np.asarray(fc_of(params(NON_DEFAULT)), np.float64)
    for name in NON_DEFAULT:
        moved = np.asarray(fc_of(params({**NON_DEFAULT, name: defaults()[name]})), np.float64)
        assert np.abs(moved - base).max() > 1e-3, name  # ≥ 250× the FC tolerance against the reference
    for a, b in [("tau_E", "tau_I"), ("ext_E", "ext_I"), ("a_E", "a_I"), ("theta_E", "theta_I"), ("wEE", "wII"),
                 ("wIE", "wEI")]:
        swapped = np.asarray(fc_of(params({**NON_DEFAULT, a: NON_DEFAULT[b], b: NON_DEFAULT[a]})), np.float64)
        assert np.abs(swapped - base).max() > 1e-3, (a, b)


@pytest.mark.slow
def test_objective_at_the_full_six_seconds_equals_the_seed(bundled) -> None:
    """The product's path at the README's 6 s, default parameters, a padded batch: the candidate scores as the
    seed's network does (loss and FC)."""
    res = _objective(bundled, 2.0, 17, {}, 6000.0, batch=3, others=(0.7,))
    corr_r, fc_r = _reference_p(bundled, 2.0, 17, 6000.0, None)
    assert res.best_index == 0 and res.flags == ("", "")
    # measured: loss 2.2e-7, FC 4.9e-7 (60,000 float32 steps summed in another order): a 3x larger difference fails
    assert abs(res.losses[0] - (1 - corr_r)) < 6e-7
    assert np.abs(res.best_fc - fc_r).max() < 1.2e-6
