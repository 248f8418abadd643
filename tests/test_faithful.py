"""The engine against the seed's own code path (engine.reference), same parameters and key ("seed" stream)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import model, reference
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
    assert abs((1 - corr_e) - (1 - corr_r)) < 1e-5
    assert np.abs(fc_e - fc_r).max() < 1e-4


def test_transient_equals_seed_series(bundled) -> None:
    import braintools

    transient = 700
    series = _reference_series(bundled, 2.0, 5)
    with reference.seed_environment():  # braintools' metrics as the seed ran them
        fc_r = np.asarray(braintools.metric.functional_connectivity(series[transient:]))
        corr_r = float(braintools.metric.matrix_correlation(jnp.asarray(bundled.target_fc), jnp.asarray(fc_r)))
    corr_e, fc_e, count = _engine(bundled, 2.0, 5, transient=transient)
    assert count == N_STEPS - transient
    assert np.abs(fc_e - fc_r).max() < 1e-4
    assert abs(corr_e - corr_r) < 1e-5


def test_small_dataset_equals_seed(small) -> None:
    corr_e, fc_e, _ = _engine(small, 1.5, 11)
    corr_r, fc_r = _reference(small, 1.5, 11)
    assert abs(corr_e - corr_r) < 1e-5
    assert np.abs(fc_e - fc_r).max() < 1e-4


def test_per_candidate_speed_equals_seed(bundled) -> None:
    """A fitted speed (per-lane delays, the lane-gather path) against the seed at that speed."""
    corr_e, fc_e, _ = _engine(bundled, 2.0, 13, speed=3.0, per_lane_speed=True)
    corr_r, fc_r = _reference(bundled, 2.0, 13, speed=3.0)
    assert abs(corr_e - corr_r) < 1e-5
    assert np.abs(fc_e - fc_r).max() < 1e-4


def test_block_stream_statistically_equal(bundled) -> None:
    """The fast "block" noise draws the same process: mean loss over seeds agrees within noise."""
    seeds = range(4)
    block = [1 - _engine(bundled, 2.0, s, stream="block")[0] for s in seeds]
    seed = [1 - _engine(bundled, 2.0, s, stream="seed")[0] for s in seeds]
    spread = np.std(block + seed) + 1e-3
    assert abs(np.mean(block) - np.mean(seed)) < 3 * spread
