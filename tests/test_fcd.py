"""FC, FCD, KS and band-pass against plain float64 numpy loops and scipy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal as sps
from scipy import stats

from engine.model.fcd import Bandpass, bandpass_matrix, empirical_fc, empirical_fcd_values, fc_from_samples, fcd_matrix, \
    fcd_values, ks_statistic, windows


def np_fc(x: np.ndarray) -> np.ndarray:
    """FC of a (T, N) series with braintools' conventions, one np.corrcoef."""
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = np.corrcoef(x.astype(np.float64), rowvar=False)
    fc = np.nan_to_num(fc, nan=0.0)
    np.fill_diagonal(fc, 1.0)
    return fc


def np_fcd(x: np.ndarray, window: int, step: int) -> np.ndarray:
    """FCD of a (T, N) series: a loop over windows, np.corrcoef of the FC upper triangles."""
    iu = np.triu_indices(x.shape[1], k=1)
    vecs = []
    start = 0
    while start + window <= x.shape[0]:
        vecs.append(np_fc(x[start:start + window])[iu])
        start += step
    with np.errstate(invalid="ignore", divide="ignore"):
        fcd = np.atleast_2d(np.corrcoef(np.array(vecs)))
    fcd = np.nan_to_num(fcd, nan=0.0)
    np.fill_diagonal(fcd, 1.0)
    return fcd


def series(t: int, n: int, b: int, seed: int) -> np.ndarray:
    """Correlated random samples (T, N, B) with a slow common component, offset far from zero."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(n, n))
    slow = np.cumsum(rng.normal(size=(t, 1, b)), axis=0) * 0.3
    return 5.0 + np.einsum("tkb,nk->tnb", rng.normal(size=(t, n, b)), mix) + slow


@pytest.mark.parametrize("b", [1, 3])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_fc_from_samples_matches_corrcoef(b: int, dtype: jnp.dtype) -> None:
    y = series(120, 7, b, seed=b)
    got = np.asarray(jax.jit(fc_from_samples)(jnp.asarray(y, dtype)))
    assert got.shape == (7, 7, b) and got.dtype == dtype
    for k in range(b):
        np.testing.assert_allclose(got[..., k], np_fc(y[..., k]), atol=2e-6 if dtype == jnp.float32 else 1e-13)


def test_fc_of_a_constant_node_is_zero_off_the_diagonal() -> None:
    y = series(40, 5, 2, seed=9)
    y[:, 2, 1] = 0.25  # one node of one candidate constant
    got = np.asarray(jax.jit(fc_from_samples)(jnp.asarray(y, jnp.float32)))
    assert np.all(got[2, [0, 1, 3, 4], 1] == 0) and np.all(got[[0, 1, 3, 4], 2, 1] == 0) and got[2, 2, 1] == 1
    np.testing.assert_allclose(got[..., 1], np_fc(y[..., 1]), atol=2e-6)
    np.testing.assert_allclose(got[..., 0], np_fc(y[..., 0]), atol=2e-6)


def test_windows_follow_the_sliding_rule() -> None:
    for n, w, s in [(10, 3, 2), (10, 4, 3), (9, 9, 1), (8, 9, 1), (100, 30, 5), (31, 30, 5)]:
        want = [i for i in range(0, n, s) if i + w <= n]
        got = windows(n, w, s)
        assert got.dtype == np.int32 and got.tolist() == want, (n, w, s)
    for bad in [(10, 1, 1), (10, 3, 0), (-1, 3, 1), (10, 3.0, 1), (10, True, 1)]:
        with pytest.raises(ValueError, match="FCD"):
            windows(*bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("t", "n", "b", "window", "step"), [(60, 6, 1, 12, 3), (75, 8, 4, 20, 5), (50, 5, 2, 10, 40)])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_fcd_matches_numpy_loops(t: int, n: int, b: int, window: int, step: int, dtype: jnp.dtype) -> None:
    y = series(t, n, b, seed=t + b)
    every = jax.jit(lambda x: (fcd_matrix(x, window, step, chunk=3), fcd_values(x, window, step),
                               fcd_matrix(x, window, step, chunk=2, recompute=True)))
    mat, vals, recomputed = (np.asarray(a) for a in every(jnp.asarray(y, dtype)))
    tol = 1e-5 if dtype == jnp.float32 else 1e-12
    w = windows(t, window, step).size
    assert mat.shape == (w, w, b) and vals.shape == (w * (w - 1) // 2, b)
    for k in range(b):
        ref = np_fcd(y[..., k], window, step)
        np.testing.assert_allclose(mat[..., k], ref, atol=tol)
        np.testing.assert_allclose(recomputed[..., k], ref, atol=tol)
        np.testing.assert_allclose(vals[:, k], ref[np.triu_indices(w, k=1)], atol=tol)


def test_fcd_edge_cases() -> None:
    y = jnp.asarray(series(30, 4, 2, seed=5), jnp.float32)
    one = np.asarray(jax.jit(fcd_matrix, static_argnums=(1, 2))(y, 25, 10))  # a single window: FCD [[1]] and no values
    assert one.shape == (1, 1, 2) and np.all(one == 1)
    with pytest.raises(ValueError, match="at least 2 windows"):
        fcd_values(y, 25, 10)
    with pytest.raises(ValueError, match="no FCD window"):
        fcd_matrix(y, 31, 1)
    # constant upper triangle in one window (all nodes constant there): its FCD row is 0 off the diagonal
    z = np.asarray(series(40, 4, 1, seed=6))
    z[:10] = 1.0
    got = np.asarray(jax.jit(fcd_matrix, static_argnums=(1, 2))(jnp.asarray(z, jnp.float64), 10, 10))[..., 0]
    np.testing.assert_allclose(got, np_fcd(z[..., 0], 10, 10), atol=1e-12)
    assert np.all(got[0, 1:] == 0) and got[0, 0] == 1


def test_fcd_values_equal_the_host_helper() -> None:
    y = series(90, 6, 1, seed=11)
    host = empirical_fcd_values([y[..., 0].T], 15, 4)
    dev = np.sort(np.asarray(jax.jit(fcd_values, static_argnums=(1, 2))(jnp.asarray(y, jnp.float64), 15, 4))[:, 0])
    np.testing.assert_allclose(dev, host, atol=1e-12)


def ks_cases(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """(reference, values (M, B)) pairs; the first two share shapes so that they compile once."""
    tied_ref = np.round(rng.normal(size=400) * 2) / 2  # heavy ties, −0.0 and 0.0 among them
    return [
        (rng.normal(size=400), np.stack([rng.normal(0.2, 1.3, 60), rng.normal(size=60), rng.uniform(5, 6, 60),
                                         np.full(60, 0.25)], axis=1)),  # continuous, disjoint (D = 1), constant
        (tied_ref, np.stack([np.round(rng.normal(size=60) * 2) / 2, rng.integers(-2, 3, 60).astype(float),
                             np.full(60, 0.5), rng.normal(size=60)], axis=1)),  # ties within and across samples
        (rng.normal(size=7), rng.normal(size=(200, 2))),  # a tiny reference
        (np.full(10, 0.5), np.full((5, 1), 0.5)),  # identical samples: D = 0
    ]


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_ks_statistic_equals_scipy(dtype: jnp.dtype) -> None:
    fn = jax.jit(ks_statistic)
    for ref, vals in ks_cases(np.random.default_rng(2)):
        ref_c = np.sort(ref.astype(np.dtype(dtype)))
        vals_c = vals.astype(np.dtype(dtype))
        got = np.asarray(fn(jnp.asarray(ref_c), jnp.asarray(vals_c)))
        want = np.array([stats.ks_2samp(ref_c, vals_c[:, k]).statistic for k in range(vals.shape[1])])
        assert got.dtype == dtype and got.shape == (vals.shape[1],)
        np.testing.assert_allclose(got, want, atol=1e-12 if dtype == jnp.float64 else 2e-7, rtol=0)


def test_ks_statistic_nan_column_is_nan() -> None:
    vals = np.random.default_rng(3).normal(size=(20, 3))
    vals[4, 1] = np.nan
    got = np.asarray(jax.jit(ks_statistic)(jnp.asarray(np.linspace(-2, 2, 50)), jnp.asarray(vals)))
    assert np.isnan(got[1]) and np.all(np.isfinite(got[[0, 2]]))


def test_bandpass_matrix_is_sosfiltfilt() -> None:
    tr = 0.72
    x = np.random.default_rng(4).normal(size=(200, 3, 2))
    f = bandpass_matrix(200, tr)
    sos = sps.butter(2, [0.01, 0.1], btype="band", fs=1 / tr, output="sos")
    assert f.shape == (200, 200) and f.dtype == np.float64
    np.testing.assert_allclose(np.einsum("st,tnb->snb", f, x), sps.sosfiltfilt(sos, x, axis=0), atol=1e-12)
    f4 = bandpass_matrix(150, 2.0, 0.02, 0.2, order=4)
    sos4 = sps.butter(4, [0.02, 0.2], btype="band", fs=0.5, output="sos")
    np.testing.assert_allclose(f4 @ x[:150, :, 0], sps.sosfiltfilt(sos4, x[:150, :, 0], axis=0), atol=1e-12)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(n_samples=100, tr_s=0.72, low_hz=0.01, high_hz=0.7), "Nyquist"),
    (dict(n_samples=100, tr_s=0.72, low_hz=0.1, high_hz=0.1), "low < high"),
    (dict(n_samples=100, tr_s=0.72, low_hz=0.0, high_hz=0.1), "0 < low"),
    (dict(n_samples=100, tr_s=0.0), "repetition time"),
    (dict(n_samples=100, tr_s=float("nan")), "repetition time"),
    (dict(n_samples=100, tr_s=0.72, order=0), "order"),
    (dict(n_samples=10, tr_s=0.72), "at least"),
])
def test_bandpass_rejects_bad_input_in_one_line(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as err:
        bandpass_matrix(**kwargs)
    assert "\n" not in str(err.value)


def test_empirical_fc_and_fcd_from_scans() -> None:
    rng = np.random.default_rng(5)
    scans = [series(t, 5, 1, seed=t)[..., 0].T for t in (60, 75, 90)]  # (N, T), different lengths
    np.testing.assert_allclose(empirical_fc(scans), np.mean([np_fc(s.T) for s in scans], axis=0), atol=1e-13)
    got = empirical_fcd_values(scans, 12, 4)
    want = np.sort(np.concatenate([np_fcd(s.T, 12, 4)[np.triu_indices(windows(s.shape[1], 12, 4).size, k=1)]
                                   for s in scans]))
    np.testing.assert_allclose(got, want, atol=1e-12)
    bp = Bandpass(tr_s=0.72, low_hz=0.02, high_hz=0.2)
    filtered = [bp.matrix(s.shape[1]) @ s.T for s in scans]
    np.testing.assert_allclose(empirical_fc(scans, bandpass=bp), np.mean([np_fc(x) for x in filtered], axis=0),
                               atol=1e-12)
    want_bp = np.sort(np.concatenate([np_fcd(x, 12, 4)[np.triu_indices(windows(len(x), 12, 4).size, k=1)]
                                      for x in filtered]))
    np.testing.assert_allclose(empirical_fcd_values(scans, 12, 4, bandpass=bp), want_bp, atol=1e-12)
    with pytest.raises(ValueError, match="scan 0 has 60 samples"):
        empirical_fcd_values(scans, 50, 20)
    del rng


def test_empirical_fc_of_the_bundled_scans_is_its_target(bundled) -> None:  # type: ignore[no-untyped-def]
    if not bundled.scans:
        pytest.skip("bundled dataset carries no scans")
    np.testing.assert_allclose(empirical_fc(bundled.scans), bundled.target_fc, atol=1e-12)


def test_bandpass_inside_the_objective_end_to_end(tmp_path) -> None:
    """``simulate --observe bold --bandpass 0.01:0.1`` through the command line, against the same candidate without
    it (same seed: the same raw samples): the target is the mean FC of the band-passed scans, the samples the objective
    scored are the raw ones band-passed, and its FC is theirs, each checked against scipy's own sosfiltfilt
    (independent of engine.model.fcd); both FCs differ from the unfiltered ones."""
    from tests.support import random_structure, run_main

    rng = np.random.default_rng(8)
    n, tr = 10, 0.72
    c, d = random_structure(n, rng)
    scans = rng.normal(size=(2, n, 120)).cumsum(axis=2)  # slow drifts: the band-pass changes their FC
    np.savez(tmp_path / "drift.npz", Cmat=c, Dmat=d, BOLDs=scans, TR=tr)

    def simulate(*extra: str) -> dict[str, np.ndarray]:
        out = tmp_path / f"sim{len(extra)}.npz"
        r = run_main("simulate", "--preset", "bold", "--data", str(tmp_path / "drift.npz"), "--duration", "45000",
                     "--transient", "5000", "--objective", "fc", "--out", str(out), *extra)
        assert r.returncode == 0, r.stderr
        with np.load(out) as z:
            return {k: z[k] for k in ("bold", "fc", "target_fc")}

    band, raw = simulate("--bandpass", "0.01:0.1"), simulate()
    sos = sps.butter(2, [0.01, 0.1], btype="band", fs=1 / tr, output="sos")
    assert raw["bold"].shape == band["bold"].shape and raw["bold"].shape[0] >= 50 and raw["bold"].shape[1] == n
    want_target = np.mean([np.corrcoef(sps.sosfiltfilt(sos, s.T, axis=0), rowvar=False) for s in scans], axis=0)
    np.testing.assert_allclose(band["target_fc"], want_target, atol=1e-10)
    assert np.abs(band["target_fc"] - raw["target_fc"]).max() > 0.05
    filtered = sps.sosfiltfilt(sos, np.asarray(raw["bold"], np.float64), axis=0)
    np.testing.assert_allclose(band["bold"], filtered, rtol=0, atol=1e-9 * np.abs(filtered).max())
    np.testing.assert_allclose(band["fc"], np.corrcoef(filtered, rowvar=False), atol=2e-5)  # float32, as unfiltered
    np.testing.assert_allclose(raw["fc"], np.corrcoef(raw["bold"], rowvar=False), atol=2e-5)
    assert np.abs(band["fc"] - raw["fc"]).max() > 0.01
