"""How the network's delayed rates enter each node: a registry of couplings (brainmass's classes by name).

A newcomer adds one ``Coupling`` entry (and its name to ``engine.registry_names``, which this registry asserts it
matches): its input from the delayed sum, and its input in a homogeneous state (used by
feedback inhibition control and the steady start). CLI, app and run log read the names from ``REGISTRY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import jax

from engine import registry_names

Array = jax.Array


@dataclass(frozen=True, kw_only=True)
class Coupling:
    """One coupling: the input current to rE and its value when every node sits at the same rate."""

    name: str
    description: str
    brainmass: str  # the brainmass class it follows
    current: Callable[[Array, Array, Array, Array], Array]  # (k, Σ_j C_ij r_j(t − d_ij), rE_i, Σ_j C_ij) → input
    at_rate: Callable[[Array, Array, Array], Array]  # (k, r, Σ_j C_ij) → input when every node has rate r


def _diffusive(k: Array, delayed_sum: Array, rE: Array, rowsum: Array) -> Array:
    return k * (delayed_sum - rE * rowsum)


def _additive(k: Array, delayed_sum: Array, rE: Array, rowsum: Array) -> Array:
    return k * delayed_sum


_COUPLINGS = (
    Coupling(name="diffusive", brainmass="DiffusiveCoupling",
             description="k·Σ_j C_ij (r_j(t − d_ij) − r_i): zero input in a homogeneous state (the tutorial's)",
             current=_diffusive, at_rate=lambda k, r, rowsum: 0.0 * (k * r * rowsum)),
    Coupling(name="additive", brainmass="AdditiveCoupling",
             description="k·Σ_j C_ij r_j(t − d_ij): the input grows with a region's in-strength (TVB's Linear)",
             current=_additive, at_rate=lambda k, r, rowsum: k * r * rowsum),
)

#: Every coupling by name (read-only), the default first.
REGISTRY: Mapping[str, Coupling] = MappingProxyType({c.name: c for c in _COUPLINGS})
assert tuple(REGISTRY) == registry_names.COUPLINGS, "engine/registry_names.py lists the couplings of this registry"

#: The coupling of a configuration that names none.
DEFAULT = "diffusive"
