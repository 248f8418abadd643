"""Regional parameters and feedback inhibition control (FIC): per-region values (N, B) of each candidate.

``engine.model.candidate_params`` evaluates these functions on the host in float64, one candidate at a time, and
passes the results to the simulation as inputs, so a candidate's values do not depend on its batch.

Regional: a coefficient ``P@MAP`` (an ordinary fitted or fixed parameter) makes P vary over regions as
P_i = P × (1 + Σ_k c_k · m_k,i) with maps min–max scaled to [0, 1] (``engine.data.maps``). A candidate whose P_i
leaves P's valid range in any region is rejected (not simulated into a score): it gets the worst loss and the flag
``range`` with the parameter named in the run log (``out_of_range``).

FIC (Deco et al. 2014, analytically for Wilson–Cowan nodes): with ``fic`` on, each region's I→E weight wIE_i is the
one that puts the region's noiseless fixed point at rE = E* (``fic_target``) given its network input at that state:
I* solves I = (1 − r I)(S_I(wEI E* − wII I + ext_I) − off_I) (bisection, monotone), and
wIE_i = [wEE E* + ext_E,i + coupling_i(E*) − x_E] / I* with x_E = θ_E + logit(E*/(1 − r E*) + off_E) / a_E, brainmass's
sigmoid S(x) = sigmoid(a(x − θ)) minus off = sigmoid(−aθ). A region has no positive weight when its drive and network
input at E* are too weak to reach E* even without inhibition (wIE_i ≤ 0), or when no input reaches E* at all
(E*/(1 − r E*) + off_E ≥ 1). Such regions get wIE_i = 0 — the closest admissible weight; they then rest below E* — and
are counted (``fic_infeasible``); the candidate is simulated and scored as it is, and the run log says how many regions
missed their target. FIC makes E* a fixed point; it does not make it stable (large k or E* can leave it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from engine.params import CONTROL, REGISTRY, split_regional

if TYPE_CHECKING:
    from engine.model.coupling import Coupling

Array = jax.Array

#: Bisection steps for I* (the bracket [0, 1/max(r, 1)] shrinks below 1e-12).
BISECT = 48


def coefficients(names: "list[str] | tuple[str, ...]") -> dict[str, list[tuple[str, str]]]:
    """Regional coefficient names grouped by parameter: {P: [(P@MAP, MAP), …]}."""
    out: dict[str, list[tuple[str, str]]] = {}
    for n in names:
        parts = split_regional(n)
        if parts is not None:
            out.setdefault(parts[0], []).append((n, parts[1]))
    return out


def map_names(names: "list[str] | tuple[str, ...]") -> tuple[str, ...]:
    """Every map the coefficient names refer to, in order of first use."""
    return tuple(dict.fromkeys(m for terms in coefficients(names).values() for _, m in terms))


def apply_maps(p: Mapping[str, Array], maps: Mapping[str, Array]) -> dict[str, Array]:
    """``p`` with every parameter that has coefficients replaced by its (N, B) regional values."""
    out = dict(p)
    for base, terms in coefficients(list(p)).items():
        scale: Array | float = 1.0
        for coef, m in terms:
            scale = scale + jnp.asarray(p[coef])[None, ...] * maps[m][:, None]  # (N, 1) × (B,) → (N, B)
        out[base] = jnp.asarray(p[base]) * scale
    return out


def out_of_range(p: Mapping[str, Array]) -> dict[str, Array]:
    """Per regional parameter, which lanes (B,) have a region outside the parameter's valid range."""
    bad: dict[str, Array] = {}
    for name, v in p.items():
        spec = REGISTRY.get(name) or CONTROL.get(name)
        v = jnp.asarray(v)
        if spec is None or v.ndim < 2:
            continue
        low = v <= spec.minimum if spec.exclusive_minimum else v < spec.minimum
        viol = low | (v > spec.maximum) | ~jnp.isfinite(v)
        bad[name] = viol.any(axis=0)
    return bad


def _logit(y: Array) -> Array:
    return jnp.log(y) - jnp.log1p(-y)


#: Keys of the parameter dict that carry FIC's target state to the steady start (read by ``network.init_state``).
START_E, START_I = "_start_rE", "_start_rI"


def inhibitory_rate(p: Mapping[str, Array], e: Array) -> Array:
    """I* solving I = (1 − r I)(S_I(wEI e − wII I + ext_I) − off_I) for the rate ``e`` (bisection: g is increasing)."""
    r = jnp.asarray(p["r"])
    a_I, th_I = jnp.asarray(p["a_I"]), jnp.asarray(p["theta_I"])
    off_I = jax.nn.sigmoid(-a_I * th_I)
    wEI, wII, ext_I = jnp.asarray(p["wEI"]), jnp.asarray(p["wII"]), jnp.asarray(p["ext_I"])

    def g(i: Array) -> Array:
        return i - (1.0 - r * i) * (jax.nn.sigmoid(a_I * (wEI * e - wII * i + ext_I - th_I)) - off_I)

    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in (e, r, a_I, th_I, wEI, wII, ext_I)))
    lo = jnp.zeros(shape, jnp.result_type(e, wEI))
    hi = jnp.broadcast_to(1.0 / jnp.maximum(r, 1.0), shape).astype(lo.dtype)

    def bisect(_: int, b: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = b
        mid = 0.5 * (lo + hi)
        up = g(mid) > 0
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, BISECT, bisect, (lo, hi))
    return 0.5 * (lo + hi)


def fic_inhibition(p: Mapping[str, Array], at_rate: Array, target: Array) -> tuple[Array, Array, Array]:
    """(wIE_i, infeasible, I*), each (N, B)-broadcastable: the I→E weights that hold rE at ``target``."""
    e = jnp.asarray(target)
    r = jnp.asarray(p["r"])
    a_E, th_E = jnp.asarray(p["a_E"]), jnp.asarray(p["theta_E"])
    off_E = jax.nn.sigmoid(-a_E * th_E)
    i_star = inhibitory_rate(p, e)
    y = e / (1.0 - r * e) + off_E
    ok_y = (y > 0) & (y < 1) & (1.0 - r * e > 0)
    x_E = th_E + _logit(jnp.where(ok_y, y, 0.5)) / a_E
    w = (jnp.asarray(p["wEE"]) * e + jnp.asarray(p["ext_E"]) + at_rate - x_E) / jnp.maximum(i_star, 1e-12)
    infeasible = ~ok_y | (i_star <= 1e-9) | ~(w > 0)
    return jnp.where(infeasible, 0.0, w), infeasible, i_star


def regional_params(p: Mapping[str, Array], maps: Mapping[str, Array], *, fic: bool, coupling: "Coupling",
                    cmat: Array, rowsum: Array, n_nodes: int, batch: int) -> tuple[dict[str, Array], Array]:
    """Maps applied, then FIC's wIE (N, B); and the infeasible-region count per lane (B,) (zeros without FIC)."""
    q = apply_maps(p, maps)
    infeasible = jnp.zeros((batch,), jnp.int32)
    if fic:
        target = jnp.asarray(q["fic_target"])
        if target.ndim == 2:  # fic_target@MAP: each region held at its own rate, its input C·E* at those rates
            rate = target
            at = coupling.current(jnp.asarray(q["k"]), cmat @ rate, rate, rowsum)
        else:  # one rate for every region: C·E* = rowsum·E*, kept in that form so every score stays bit for bit
            rate = target if target.ndim == 0 else target[None, :]
            at = coupling.at_rate(jnp.asarray(q["k"]), rate, rowsum)  # (N, 1|B)
        w, bad, i_star = fic_inhibition(q, at, rate)
        shape = (n_nodes, batch)
        q["wIE"] = jnp.broadcast_to(w, shape)
        q[START_E] = jnp.broadcast_to(rate, shape)
        q[START_I] = jnp.broadcast_to(i_star, shape)
        infeasible = jnp.broadcast_to(bad, shape).sum(axis=0).astype(jnp.int32)
    return q, infeasible




def describe(coefs: Mapping[str, float]) -> str:
    """Text for the run log, e.g. 'ext_E × (1 + 0.4·fcgradient − 0.2·strength)'."""
    parts = []
    for base, terms in coefficients(list(coefs)).items():
        t = " ".join(f"{'+' if coefs[c] >= 0 else '−'} {abs(coefs[c]):.3g}·{m}" for c, m in terms)
        parts.append(f"{base} × (1 {t})")
    return "; ".join(parts)



def batch_warnings(result: object, batch_number: int) -> list[str]:
    """Run-log lines for a batch: candidates rejected for a regional value out of range, regions FIC could not hold."""
    out = []
    rejected = getattr(result, "rejected", None) or {}
    if rejected:
        n = int(np.any(np.stack([np.asarray(v) for v in rejected.values()]), axis=0).sum())
        out.append(f"{n} candidate(s) in batch {batch_number} rejected: a regional value of "
                   f"{', '.join(sorted(rejected))} left its valid range in some region (worst loss, flag 'range')")
    infeasible = getattr(result, "fic_infeasible", None)
    if infeasible is not None and np.asarray(infeasible).any():
        bad = np.asarray(infeasible)
        best = int(bad[getattr(result, "best_index", 0)])
        out.append(f"FIC: {int((bad > 0).sum())} of {bad.size} candidate(s) in batch {batch_number} have regions with "
                   f"no positive I→E weight (up to {int(bad.max())}; batch best: {best}); those regions rest below "
                   "fic_target with wIE 0 and the candidates are scored as they are")
    return out
