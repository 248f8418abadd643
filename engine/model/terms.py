"""Objective terms: one registry that the CLI, the app and the run log read, and the weighted sum that a fit scores.

A new term is one ``Term`` entry in ``_TERMS`` below (and its name, with its traits, in ``engine.registry_names``,
which this registry asserts it matches): a name, a one-line description, whether it needs the FCD,
and ``fn(signals, target) -> (B,)`` (lower is better, candidates on the last axis). A term computed from what the
parameters imply rather than from the simulated signals (``fic``: the regions feedback inhibition control cannot
hold) is marked ``host``: the device evaluates it as 0 and the objective adds it from ``Signals.fic`` after the call.
``evaluate`` computes an ``engine.objective_spec.ObjectiveSpec`` (the parsed weighted sum) from the signals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from engine import registry_names
from engine.model.fcd import ks_statistic
from engine.model.network import fc_correlation
from engine.objective_spec import ObjectiveSpec

Array = jax.Array


class Signals(NamedTuple):
    """What the simulation produced for a batch: FC (N, N, B), the FCD upper-triangle values (M, B) or None, and the
    fraction of regions whose FIC weight is infeasible (B,) or None (known on the host, after the call)."""

    fc: Array
    fcd: Array | None = None
    fic: Array | None = None


class Target(NamedTuple):
    """What the fit is scored against (device constants): FC (N, N), the sorted pooled FCD values (m,) or None, and
    the scored edges as (i, j) index arrays (None: every upper-triangle edge, see ``engine.data.edges``)."""

    fc: Array
    fcd_sorted: Array | None = None
    edges: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True, kw_only=True)
class Term:
    """One objective term: lower is better; ``fn(signals, target)`` gives one value per candidate (B,)."""

    name: str
    description: str
    needs_fcd: bool
    fn: Callable[[Signals, Target], Array]
    host: bool = False  # computed on the host from ``Signals.fic`` (the device call gives 0)
    needs: tuple[str, ...] = ()  # an objective with this term must have one of these terms too (else one line)


def _upper(fc: Array, edges: tuple[np.ndarray, np.ndarray] | None = None) -> Array:
    """The scored edges of (N, N[, B]) as (M[, B]): ``edges`` (i, j), or the upper triangle (k = 1) when None."""
    if edges is not None:
        return fc[edges[0], edges[1]]
    i, j = np.triu_indices(fc.shape[0], k=1)
    return fc[i.astype(np.int32), j.astype(np.int32)]


def fc_corr(signals: Signals, target: Target) -> Array:
    """Pearson r (B,) between model and empirical FC on the scored edges."""
    fc = signals.fc
    tgt = jnp.asarray(target.fc, fc.dtype)
    if target.edges is None:
        return fc_correlation(tgt, fc)
    tc = _upper(tgt, target.edges)[:, None]
    mv = _upper(fc, target.edges)
    tc = tc - tc.mean(axis=0)
    mc = mv - mv.mean(axis=0)
    return (tc * mc).sum(axis=0) / jnp.sqrt((tc * tc).sum(axis=0) * (mc * mc).sum(axis=0))


def fc_term(signals: Signals, target: Target) -> Array:
    """1 − Pearson r of the FC on the scored edges (the tutorial's loss on every upper-triangle edge)."""
    return 1.0 - fc_corr(signals, target)


def fc_rmse_term(signals: Signals, target: Target) -> Array:
    """Root-mean-square difference of the FC on the scored edges."""
    fc = signals.fc
    diff = _upper(fc, target.edges) - _upper(jnp.asarray(target.fc, fc.dtype), target.edges)[:, None]
    return jnp.sqrt((diff * diff).mean(axis=0))


def fc_level_term(signals: Signals, target: Target) -> Array:
    """|mean model FC − mean empirical FC| on the scored edges: the level r cannot see (global synchrony or none)."""
    fc = signals.fc
    model = _upper(fc, target.edges).mean(axis=0)
    data = _upper(jnp.asarray(target.fc, fc.dtype), target.edges).mean()
    return jnp.abs(model - data)


def fic_term(signals: Signals, target: Target) -> Array:
    """The fraction of regions whose FIC weight is infeasible (wIE clipped to 0, the region off its target rate)."""
    if signals.fic is None:
        return jnp.zeros(signals.fc.shape[-1], signals.fc.dtype)
    return jnp.asarray(signals.fic, signals.fc.dtype)


def fcd_ks_term(signals: Signals, target: Target) -> Array:
    """KS statistic between the model's FCD values and the empirical FCD values pooled over scans."""
    if signals.fcd is None or target.fcd_sorted is None:
        raise ValueError("the fcd_ks term needs the model's FCD values and the empirical FCD values")
    return ks_statistic(target.fcd_sorted, signals.fcd)


_TERMS = (
    Term(name="fc", description="1 − Pearson r between model and empirical FC (scored edges)", needs_fcd=False,
         fn=fc_term),
    Term(name="fc_rmse", description="RMSE between model and empirical FC (scored edges)", needs_fcd=False,
         fn=fc_rmse_term),
    Term(name="fcd_ks", description="Kolmogorov–Smirnov distance between model and empirical FCD values",
         needs_fcd=True, fn=fcd_ks_term),
    Term(name="fc_level", description="|mean model FC − mean empirical FC| on the scored edges (the FC's level)",
         needs_fcd=False, fn=fc_level_term, needs=("fc", "fc_rmse")),
    Term(name="fic", description="fraction of regions FIC cannot hold at fic_target (a penalty; needs --fic)",
         needs_fcd=False, fn=fic_term, host=True),
)
REGISTRY: Mapping[str, Term] = MappingProxyType({t.name: t for t in _TERMS})
NAMES: tuple[str, ...] = tuple(REGISTRY)
assert NAMES == registry_names.TERMS, "engine/registry_names.py lists the terms of this registry"
assert all((n in registry_names.FCD_TERMS, n in registry_names.HOST_TERMS, registry_names.TERM_NEEDS.get(n, ()))
           == (t.needs_fcd, t.host, t.needs) for n, t in REGISTRY.items()), "engine/registry_names.py: term traits"


def evaluate(spec: ObjectiveSpec, signals: Signals, target: Target) -> tuple[Array, dict[str, Array]]:
    """(loss (B,), {name: term (B,)}) with loss = Σ weight · term of ``spec``, in the dtype of ``signals.fc``."""
    if spec.needs_fcd and (signals.fcd is None or target.fcd_sorted is None):
        raise ValueError(f"objective {spec} needs FCD values of the model and of the data")
    values = {name: REGISTRY[name].fn(signals, target) for name in spec.names}  # host terms: 0 without fic
    dtype = signals.fc.dtype
    loss = sum((jnp.asarray(w, dtype) * values[name] for name, w in spec.terms[1:]),
               start=jnp.asarray(spec.terms[0][1], dtype) * values[spec.terms[0][0]])
    return loss, values
