"""The parameter registry: every model parameter that can be fitted or fixed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True, kw_only=True)
class ParamSpec:
    """One model parameter: its default, unit, default search bounds and valid range."""

    name: str
    default: float
    unit: str
    lower: float
    upper: float
    description: str
    minimum: float = -math.inf
    maximum: float = math.inf
    exclusive_minimum: bool = False

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(f"{self.name}: default bounds must satisfy lower < upper")
        if not self.admits(self.default):
            raise ValueError(f"{self.name}: default {self.default} is outside its valid range")

    def admits(self, value: float) -> bool:
        """Whether ``value`` lies in the parameter's valid range."""
        if not math.isfinite(value):
            return False
        if self.exclusive_minimum and value <= self.minimum:
            return False
        return self.minimum <= value <= self.maximum

    def valid_range(self) -> str:
        """The valid range as text, e.g. '> 0' or '[0, 1]'."""
        lo = "" if self.minimum == -math.inf else f"{'>' if self.exclusive_minimum else '≥'} {self.minimum:g}"
        hi = "" if self.maximum == math.inf else f"≤ {self.maximum:g}"
        return " and ".join(p for p in (lo, hi) if p) or "any finite value"


def _p(name: str, default: float, unit: str, lower: float, upper: float, description: str, **kw: float | bool) -> ParamSpec:
    return ParamSpec(name=name, default=default, unit=unit, lower=lower, upper=upper, description=description, **kw)  # type: ignore[arg-type]


_SPECS = (
    _p("k", 1.0, "", 0.5, 3.0, "global coupling gain: weights are Cmat × k", minimum=0.0),
    _p("sigma", 0.05, "", 0.0, 0.2, "OU noise amplitude on E and I inputs", minimum=0.0),
    _p("signal_speed", 2.0, "mm/ms", 1.0, 20.0, "axonal conduction speed: delays are Dmat / signal_speed",
       minimum=0.0, exclusive_minimum=True),
    _p("tau_ou", 10.0, "ms", 1.0, 50.0, "time constant of the OU noise", minimum=0.0, exclusive_minimum=True),
    _p("ext_E", 0.0, "", -1.0, 3.0, "constant external drive to the excitatory population"),
    _p("ext_I", 0.0, "", -1.0, 3.0, "constant external drive to the inhibitory population"),
    _p("tau_E", 1.0, "ms", 0.5, 5.0, "excitatory time constant", minimum=0.0, exclusive_minimum=True),
    _p("tau_I", 1.0, "ms", 0.5, 5.0, "inhibitory time constant", minimum=0.0, exclusive_minimum=True),
    _p("a_E", 1.2, "", 0.5, 3.0, "excitatory sigmoid gain", minimum=0.0, exclusive_minimum=True),
    _p("a_I", 1.0, "", 0.5, 3.0, "inhibitory sigmoid gain", minimum=0.0, exclusive_minimum=True),
    _p("theta_E", 2.8, "", 1.0, 5.0, "excitatory sigmoid threshold"),
    _p("theta_I", 4.0, "", 2.0, 6.0, "inhibitory sigmoid threshold"),
    _p("wEE", 12.0, "", 5.0, 20.0, "local E→E weight", minimum=0.0),
    _p("wIE", 4.0, "", 1.0, 10.0, "local I→E weight (inhibition of E, as brainmass's drE)", minimum=0.0),
    _p("wEI", 13.0, "", 5.0, 20.0, "local E→I weight (excitation of I, as brainmass's drI)", minimum=0.0),
    _p("wII", 11.0, "", 5.0, 20.0, "local I→I weight", minimum=0.0),
    _p("r", 1.0, "", 0.0, 2.0, "refractory factor in (1 − r·rate)", minimum=0.0),
)

#: Every parameter by name, in display order (read-only).
REGISTRY: Mapping[str, ParamSpec] = MappingProxyType({s.name: s for s in _SPECS})

#: Parameter names in display order.
NAMES: tuple[str, ...] = tuple(REGISTRY)

#: Parameters with a time unit, given in ms.
TIME_PARAMS: frozenset[str] = frozenset(n for n, s in REGISTRY.items() if s.unit == "ms")


def defaults() -> dict[str, float]:
    """All parameters at their default values."""
    return {n: s.default for n, s in REGISTRY.items()}


def registry_help() -> str:
    """A plain-text table of the registry for ``--help``."""
    lines = [f"  {'name':<13}{'default':>8}  {'unit':<6}{'bounds':<13}description"]
    for s in REGISTRY.values():
        bounds = f"[{s.lower:g}, {s.upper:g}]"
        lines.append(f"  {s.name:<13}{s.default:>8g}  {s.unit or '-':<6}{bounds:<13}{s.description}")
    return "\n".join(lines)


# --- parameters beyond the node's: control targets and regional map coefficients ---------------------------------

#: Parameters of the fit's controls rather than of the node (fitted or fixed like any other; not in ``REGISTRY``,
#: whose entries every simulation uses). ``fic_target`` is read only with feedback inhibition control on.
_CONTROL = (
    _p("fic_target", 0.05, "", 0.01, 0.15, "FIC: the excitatory rate E* every region is held at (with --fic)",
       minimum=0.0, maximum=1.0, exclusive_minimum=True),
)
CONTROL: Mapping[str, ParamSpec] = MappingProxyType({s.name: s for s in _CONTROL})

#: Separates a regional coefficient's parameter and map: ``wEE@myelinmap`` (a categorical map's group: ``ext_E@yeo7:3``).
MAP_SEP = "@"

#: Registry parameters that cannot vary over regions (the delays are shared by all regions of a candidate).
NOT_REGIONAL: frozenset[str] = frozenset({"signal_speed"})


def split_regional(name: str) -> tuple[str, str] | None:
    """(parameter, map) of a regional coefficient name like ``wEE@myelinmap``; None for a plain name."""
    base, sep, map_name = name.partition(MAP_SEP)
    return (base, map_name) if sep else None


def coefficient_spec(name: str) -> ParamSpec:
    """The spec of a regional coefficient: value_i = base × (1 + Σ c·m_i), maps min–max scaled to [0, 1]."""
    base, map_name = split_regional(name) or ("", "")
    return ParamSpec(name=name, default=0.0, unit="", lower=-1.0, upper=1.0,
                     description=f"coefficient of map {map_name!r} in {base} = {base} × (1 + Σ c·map)")


def spec_of(name: str) -> ParamSpec:
    """The spec of any fittable name (registry, control or regional coefficient); KeyError with a one-line reason."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name in CONTROL:
        return CONTROL[name]
    parts = split_regional(name)
    if parts is None:
        raise KeyError(f"unknown parameter {name!r}; known: {', '.join(list(REGISTRY) + list(CONTROL))}, or "
                       f"PARAM{MAP_SEP}MAP for a regional coefficient")
    base, map_name = parts
    if base not in REGISTRY and base not in CONTROL:
        raise KeyError(f"regional coefficient {name!r}: unknown parameter {base!r}; known: "
                       f"{', '.join(list(REGISTRY) + list(CONTROL))}")
    if base in NOT_REGIONAL:
        raise KeyError(f"regional coefficient {name!r}: {base} cannot vary over regions (delays are shared)")
    if not map_name:
        raise KeyError(f"regional coefficient {name!r} names no map: write {base}{MAP_SEP}MAPNAME")
    return coefficient_spec(name)


def all_names_order(names: "set[str] | frozenset[str] | tuple[str, ...]") -> tuple[str, ...]:
    """``names`` in display order: registry, then control parameters, then regional coefficients as sorted."""
    s = set(names)
    head = [n for n in REGISTRY if n in s] + [n for n in CONTROL if n in s]
    return tuple(head + sorted(s - set(head)))
