"""Each region's dynamical regime at its FIC-held operating point: quiet, a noisy oscillator past its Hopf point, or a
saddle.

With FIC every region's noiseless fixed point is known exactly (rE_i = E*_i, rI_i = I*_i), and there the sigmoids'
values follow from the rates alone (S_E − off_E = E*/(1 − r E*)), so the local E–I loop's Jacobian needs no input:

    J = [[(−1 − r s_E + g_E a_E (wEE + κ) σ'_E) / τ_E,  −g_E a_E wIE σ'_E / τ_E],
         [ g_I a_I wEI σ'_I / τ_I,               (−1 − r s_I − g_I a_I wII σ'_I) / τ_I]]

with s = S − off, g = 1 − r·rate, σ' = S(1 − S) and κ the coupling's own-rate slope (−k·Σ_j C_ij for diffusive
coupling, 0 for additive: ``SELF_COUPLING``). Its eigenvalues say how the region alone, its network input held
at the fixed point's value, answers a small push: decaying (quiet), growing in a spiral (past the Hopf point: with
noise, an oscillator at that frequency) or growing without turning (a saddle). The delays and the network's own modes
are left out: this is the node's regime, not the whole network's stability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from engine.model.regional import START_E, START_I

#: Key of the coupling's slope in the region's own rate, ∂input/∂rE_i with the delayed sum held (N, B).
SELF_COUPLING = "_self_coupling"


@dataclass(frozen=True, kw_only=True)
class NodeRegime:
    """Counts of regions by regime at one point, with the oscillating regions' median frequency and the largest growth."""

    regions: int
    quiet: int
    oscillating: int  # past the Hopf point: a growing spiral (complex eigenvalues, positive real part)
    saddle: int  # a real positive eigenvalue: the region alone leaves its operating point
    frequency_hz: float  # median over oscillating regions (over all regions' leading pairs when none oscillates)
    growth_per_ms: float | None  # the largest real part over the regions (< 0: every region quiet; None: no region)
    unheld: int = 0  # regions FIC cannot hold (wIE 0: E* is not their fixed point), left out of the counts

    def to_dict(self) -> dict[str, Any]:
        """JSON: the counts, the median frequency and the largest growth."""
        return {"regions": self.regions, "quiet": self.quiet, "oscillating": self.oscillating, "saddle": self.saddle,
                "frequency_hz": self.frequency_hz, "growth_per_ms": self.growth_per_ms, "unheld": self.unheld}


def node_jacobians(p: Mapping[str, Any]) -> np.ndarray:
    """Each region's E–I Jacobian (per ms; (N, B, 2, 2), float64) at its FIC-held rates ``p[START_E]``, ``p[START_I]``."""
    v = {k: np.asarray(x, np.float64) for k, x in p.items()}
    e, i = v[START_E], v[START_I]
    shape = np.broadcast_shapes(e.shape, i.shape)

    def sig_slope(rate: np.ndarray, a: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = rate / (1.0 - v["r"] * rate)  # S − off at the fixed point
        full = s + 1.0 / (1.0 + np.exp(a * theta))  # S itself (off = sigmoid(−aθ))
        return s, full * (1.0 - full)

    s_e, d_e = sig_slope(e, v["a_E"], v["theta_E"])
    s_i, d_i = sig_slope(i, v["a_I"], v["theta_I"])
    g_e, g_i = 1.0 - v["r"] * e, 1.0 - v["r"] * i
    jac = np.empty(shape + (2, 2))
    w_self = v["wEE"] + v.get(SELF_COUPLING, 0.0)
    jac[..., 0, 0] = np.broadcast_to((-1.0 - v["r"] * s_e + g_e * v["a_E"] * w_self * d_e) / v["tau_E"], shape)
    jac[..., 0, 1] = np.broadcast_to(-g_e * v["a_E"] * v["wIE"] * d_e / v["tau_E"], shape)
    jac[..., 1, 0] = np.broadcast_to(g_i * v["a_I"] * v["wEI"] * d_i / v["tau_I"], shape)
    jac[..., 1, 1] = np.broadcast_to((-1.0 - v["r"] * s_i - g_i * v["a_I"] * v["wII"] * d_i) / v["tau_I"], shape)
    return jac


def classify(jac: np.ndarray, unheld: int = 0) -> NodeRegime:
    """The regime counts of regions' Jacobians (N, 2, 2); ``unheld`` regions were left out."""
    if not len(jac):
        return NodeRegime(regions=0, quiet=0, oscillating=0, saddle=0, frequency_hz=0.0, growth_per_ms=None,
                          unheld=unheld)
    eig = np.linalg.eigvals(jac)  # (N, 2)
    lead = eig[np.arange(len(eig)), np.argmax(eig.real, axis=1)]
    turning = np.abs(lead.imag) > 1e-12
    growing = lead.real > 0
    osc = growing & turning
    freq = np.abs(lead.imag) * 1e3 / (2 * np.pi)
    pick = freq[osc] if osc.any() else freq[turning]
    return NodeRegime(regions=int(len(eig)), quiet=int((~growing).sum()), oscillating=int(osc.sum()),
                      saddle=int((growing & ~turning).sum()),
                      frequency_hz=float(np.median(pick)) if pick.size else 0.0,
                      growth_per_ms=float(lead.real.max()), unheld=unheld)


def node_regimes(p: Mapping[str, Any]) -> list[NodeRegime]:
    """One ``NodeRegime`` per lane of the (N, B) FIC-held parameters ``p``, regions FIC cannot hold (wIE 0) left out."""
    jac = node_jacobians(p)
    held = np.broadcast_to(np.asarray(p["wIE"]) > 0, jac.shape[:2])
    return [classify(jac[held[:, b], b], unheld=int((~held[:, b]).sum())) for b in range(jac.shape[1])]
