"""Unit tests of engine.model.network: streamed FC statistics, delays, transient, NaN, reproducibility, lanes, memory."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine.model import network as model
from engine.model import noise
from engine.params import defaults


def _params(batch: int, **over: object) -> dict[str, jax.Array]:
    p = {n: jnp.asarray(v, jnp.float32) for n, v in defaults().items()}
    p["k"] = jnp.linspace(0.5, 3.0, batch, dtype=jnp.float32)
    p["sigma"] = jnp.asarray(0.05, jnp.float32)
    for n, v in over.items():
        p[n] = jnp.asarray(v, jnp.float32)
    return p


def _run(ds, p, batch: int, n_steps: int = 400, transient: int = 0, key=None, per_candidate: bool = False):
    s = model.Structure.build(ds.cmat, ds.dmat, dt=0.1, speed_range=(2.0, 2.0))
    key = jax.random.PRNGKey(0) if key is None else key
    return jax.jit(lambda p, key: model.simulate_stats(p, s, batch=batch, n_steps=n_steps, transient_steps=transient,
                                                       key=key, per_candidate=per_candidate))(p, key)


def test_merge_stats_equals_numpy() -> None:
    rng = np.random.default_rng(0)
    t, n, b = 7, 5, 3
    blocks = [rng.normal(size=(t, n, b)).astype(np.float32) * 1e-2 + 1e-3 for _ in range(6)]
    weights = [np.ones(t, np.float32) for _ in blocks]
    weights[0][:4] = 0  # a transient inside the first block
    weights[-1][5:] = 0  # steps past the end in the last block
    acc = model.Stats(count=jnp.zeros((), jnp.float32), mean=jnp.zeros((n, b), jnp.float32),
                      m2=jnp.zeros((b, n, n), jnp.float32))
    for x, w in zip(blocks, weights):
        acc = model.merge_stats(acc, jnp.asarray(x), jnp.asarray(w))
    acc = model.Stats(acc.count, acc.mean, jnp.transpose(acc.m2, (1, 2, 0)))
    series = np.concatenate([x[w > 0] for x, w in zip(blocks, weights)])  # (T_rec, N, B)
    assert float(acc.count) == series.shape[0]
    fc = np.asarray(model.fc_from_stats(acc))
    for lane in range(b):
        np.testing.assert_allclose(fc[:, :, lane], np.corrcoef(series[:, :, lane], rowvar=False), atol=1e-5)
        np.testing.assert_allclose(np.asarray(acc.mean[:, lane]), series[:, :, lane].mean(0), rtol=1e-5)


def test_fc_from_stats_flat_node_is_zero_with_unit_diagonal() -> None:
    m2 = jnp.asarray(np.diag([1.0, 0.0, 2.0]))[:, :, None]
    fc = np.asarray(model.fc_from_stats(model.Stats(jnp.asarray(10.0), jnp.zeros((3, 1)), m2)))[:, :, 0]
    assert np.all(fc[1, [0, 2]] == 0) and np.all(np.diag(fc) == 1)


def test_fc_correlation_equals_numpy_and_braintools() -> None:
    import braintools

    rng = np.random.default_rng(1)
    n = 9
    target = np.corrcoef(rng.normal(size=(30, n)), rowvar=False)
    fcs = np.stack([np.corrcoef(rng.normal(size=(30, n)), rowvar=False) for _ in range(3)], -1)
    got = np.asarray(model.fc_correlation(jnp.asarray(target), jnp.asarray(fcs)))
    iu = np.triu_indices(n, k=1)
    for lane in range(3):
        want = np.corrcoef(target[iu], fcs[:, :, lane][iu])[0, 1]
        bt = float(braintools.metric.matrix_correlation(jnp.asarray(target), jnp.asarray(fcs[:, :, lane])))
        assert abs(got[lane] - want) < 1e-6 and abs(got[lane] - bt) < 1e-5


def test_delay_steps_follow_brainstate_rule(bundled) -> None:
    import brainunit as u
    from brainstate.nn._delay import _get_delay

    for v in (1.0, 2.0, 3.7):
        _, want = _get_delay(jnp.asarray(bundled.dmat / v, jnp.float32) * u.ms, 0.1 * u.ms)
        got = model.delay_steps(bundled.dmat, v, 0.1)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_structure_block_and_ring(bundled) -> None:
    s = model.Structure.build(bundled.cmat, bundled.dmat, dt=0.1, speed_range=(2.0, 2.0))
    d = np.asarray(model.delay_steps(bundled.dmat, 2.0, 0.1))
    coupled = bundled.cmat != 0
    assert s.hist_len == d.max() + 1
    assert s.block <= d[coupled].min() + 1
    assert s.ring % s.block == 0 and s.ring >= s.hist_len


def test_transient_counts_recorded_steps(small) -> None:
    stats, _ = _run(small, _params(2), 2, n_steps=333, transient=50)
    assert float(stats.count) == 283


def test_nan_parameter_gives_nonfinite_lane_only(small) -> None:
    p = _params(2)
    p["k"] = jnp.asarray([np.nan, 1.0], jnp.float32)
    stats, nodes = _run(small, p, 2, per_candidate=True, key=jax.random.split(jax.random.PRNGKey(0), 2))
    m2 = np.asarray(stats.m2)
    assert not np.isfinite(m2[:, :, 0]).all()
    assert np.isfinite(m2[:, :, 1]).all() and np.isfinite(np.asarray(nodes.rE[:, 1])).all()


def test_same_key_bit_identical(small) -> None:
    a, _ = _run(small, _params(3), 3)
    b, _ = _run(small, _params(3), 3)
    assert np.array_equal(np.asarray(a.m2), np.asarray(b.m2))


def test_lane_independent_of_batch_size(small) -> None:
    base = jax.random.PRNGKey(4)
    keys = lambda b: jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(b))  # noqa: E731
    one, _ = _run(small, _params(1, k=[1.5]), 1, key=keys(1), per_candidate=True)
    many, _ = _run(small, _params(4, k=[1.5, 0.7, 2.0, 3.0]), 4, key=keys(4), per_candidate=True)
    fc1, fc4 = np.asarray(model.fc_from_stats(one)), np.asarray(model.fc_from_stats(many))
    np.testing.assert_allclose(fc1[:, :, 0], fc4[:, :, 0], atol=1e-5)  # equal up to float summation order
    assert np.abs(fc4[:, :, 0] - fc4[:, :, 1]).max() > 1e-2


def test_per_lane_speed_equals_shared_speed(small) -> None:
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))
    run = lambda p: model.simulate_stats(p, s, batch=2, n_steps=300, transient_steps=0,  # noqa: E731
                                         key=jax.random.PRNGKey(1), per_candidate=False)[0].m2
    shared = run(_params(2, signal_speed=2.0))
    lanes = run(_params(2, signal_speed=[2.0, 2.0]))
    np.testing.assert_allclose(np.asarray(shared), np.asarray(lanes), rtol=1e-5, atol=1e-12)


def test_memory_per_candidate_under_1mb(bundled) -> None:
    s = model.Structure.build(bundled.cmat, bundled.dmat, dt=0.1, speed_range=(2.0, 2.0))
    assert s.memory_per_candidate(4) <= 1_000_000


@pytest.mark.parametrize("per_candidate", [False, True])
def test_initial_ring_holds_the_history_only(small, per_candidate: bool) -> None:
    """Default stream: uniform [0, 0.05) history in the last L slots, zeros before, the mirror equal to the start."""
    b = 3
    s = model.Structure.build(small.cmat, small.dmat, dt=0.1, speed_range=(2.0, 2.0))
    key = jax.random.split(jax.random.PRNGKey(2), b) if per_candidate else jax.random.PRNGKey(2)
    _, ring = model.initial_ring(key, s, b, per_candidate, "block", jnp.float32)
    ring = np.asarray(ring)
    assert ring.shape == (s.n_nodes, s.ring + s.block, b)
    hist = ring[:, s.ring - s.hist_len: s.ring]
    assert (hist >= 0).all() and (hist < noise.HISTORY_INIT_HIGH).all()
    assert abs(hist.mean() - noise.HISTORY_INIT_HIGH / 2) < 0.002 and len(np.unique(hist[..., 0])) > 0.99 * hist[..., 0].size
    assert not ring[:, : s.ring - s.hist_len].any()
    np.testing.assert_array_equal(ring[:, s.ring:], ring[:, : s.block])
    lanes_differ = not np.array_equal(hist[..., 0], hist[..., 1])
    assert lanes_differ == per_candidate


@pytest.mark.parametrize("batch", [1, 4, 32])
@pytest.mark.parametrize("per_candidate", [False, True])
def test_compiled_memory_per_candidate_under_1mb(bundled, per_candidate: bool, batch: int) -> None:
    """XLA's own accounting of a compiled batch (arguments + outputs + temporaries) per candidate."""
    b = batch
    s = model.Structure.build(bundled.cmat, bundled.dmat, dt=0.1, speed_range=(2.0, 2.0))
    key = jax.random.split(jax.random.PRNGKey(0), b) if per_candidate else jax.random.PRNGKey(0)
    fn = jax.jit(lambda p, key: model.simulate_stats(p, s, batch=b, n_steps=100, transient_steps=0, key=key,
                                                     per_candidate=per_candidate)[0].m2)
    m = fn.lower(_params(b), key).compile().memory_analysis()
    total = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
    assert total / b <= 1_000_000


@pytest.mark.parametrize("common_noise", [True, False])
@pytest.mark.parametrize("fit_speed", [False, True])
def test_objective_holds_no_float64_array_under_x64(small, common_noise: bool, fit_speed: bool) -> None:
    import re

    from engine.config import FitConfig
    from engine.model.objective import Objective

    assert jax.config.jax_enable_x64  # the conftest's setting: a stray float64 default would show here
    bounds = {"k": (0.5, 3.0), **({"signal_speed": (1.0, 5.0)} if fit_speed else {})}
    obj = Objective(small, FitConfig(batch=4, duration_ms=20.0, bounds=bounds, common_noise=common_noise),
                    devices=jax.devices()[:1])
    text = obj.lowered().as_text()  # the very function compile() builds
    wide = [line.strip() for line in text.splitlines() if re.search(r"tensor<[0-9x]+xf64>", line)]
    assert not wide, wide[:5]  # scalars from Python literals may be weak f64 constants; no array may be float64
