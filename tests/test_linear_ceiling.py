"""scripts/linear_ceiling.py's zero-frequency FC against a simulated linear network's slow fluctuations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import linear_ceiling  # noqa: E402


def _window_mean_corr(a: np.ndarray, q: np.ndarray, *, dt: float, steps: int, window: int, seed: int) -> np.ndarray:
    """Correlation of window means of dx = −A x dt + √Q dW (exact OU update), float64."""
    from scipy.linalg import expm, solve_continuous_lyapunov

    n = a.shape[0]
    prop = expm(-a * dt)
    stat = solve_continuous_lyapunov(-a, -np.diag(q))  # stationary covariance P: −A P − P Aᵀ + Q = 0
    step_cov = stat - prop @ stat @ prop.T  # covariance of one exact step's noise
    chol = np.linalg.cholesky(step_cov)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((steps, n)) @ chol.T
    x = np.zeros(n)
    xs = np.empty((steps, n))
    for t in range(steps):
        x = prop @ x + noise[t]
        xs[t] = x
    means = xs[: steps // window * window].reshape(-1, window, n).mean(axis=1)
    return np.corrcoef(means.T)


def test_zero_frequency_fc_is_the_slow_fluctuations_correlation() -> None:
    """Window means much longer than the network's time constants correlate as A⁻¹QA⁻ᵀ says, not as the
    instantaneous (Lyapunov) covariance does — the regime BOLD's low-pass keeps."""
    cmat = np.array([[0, 1, 0.2, 0], [1, 0, 0.5, 0.1], [0.2, 0.5, 0, 1], [0, 0.1, 1, 0]], float)
    d = np.array([1.0, 0.4, 1.5, 0.8])
    h = np.array([1.0, 3.0, 0.5, 1.0])
    q = np.array([1.0, 0.5, 2.0, 1.0])
    frac = 0.8
    want = linear_ceiling.linear_fc(cmat, frac, d, h, q)
    lam = np.linalg.eigvals(np.diag(h / d) @ cmat).real.max()
    a = np.diag(d) - (frac / lam) * np.diag(h) @ cmat
    got = _window_mean_corr(a, q, dt=0.1, steps=300_000, window=500, seed=3)
    iu = np.triu_indices(4, 1)
    np.testing.assert_allclose(got[iu], want[iu], atol=0.08)
    # the instantaneous correlation differs from it here, so the check tells the two apart
    from scipy.linalg import solve_continuous_lyapunov

    inst = solve_continuous_lyapunov(-a, -np.diag(q))
    inst = inst / np.sqrt(np.outer(np.diag(inst), np.diag(inst)))
    assert np.abs(inst[iu] - want[iu]).max() > 0.15


def test_a_uniform_network_has_no_regional_factor() -> None:
    """With d, h, q uniform the ceiling's FC depends on the wiring only: scaling all three changes nothing."""
    rng = np.random.default_rng(0)
    c = rng.random((6, 6))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0)
    one = np.ones(6)
    np.testing.assert_allclose(linear_ceiling.linear_fc(c, 0.7, one, one, one),
                               linear_ceiling.linear_fc(c, 0.7, 3 * one, 2 * one, 5 * one), atol=1e-12)
