"""The observation-model registry: what of the network is compared with the data (raw rE, or simulated BOLD).

A sampled observation is a small dynamical system driven by each node's rE averaged over one observation step
(≤ 1 ms), integrated inside the simulation scan and sampled every TR after the transient. To add one, write its
four functions, add an ``Observation`` to ``_OBSERVATIONS`` and its name to ``engine.registry_names`` (which this
registry asserts it matches): the CLI, the app and the run log pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping

import jax

from engine import registry_names
from engine.model import hemo

Array = jax.Array


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One observation model: how the network's rE becomes the signal whose FC (and FCD) is scored."""

    name: str
    description: str
    sampled: bool  # False: FC of rE at every step (streamed); True: a signal sampled every TR
    min_transient_ms: float = 0.0  # shorter transients get a warning (the signal's own settling time)
    init: Callable[[Array, Any], Any] | None = None  # (u0 (N, B), dtype) -> state at rest for the constant input u0
    step: Callable[[Any, Array, float], Any] | None = None  # (state, mean rE over the step (N, B), step in s) -> state
    recenter: Callable[[Any, Array], Any] | None = None  # (state, new reference input (N, B)) -> the same state
    signal: Callable[[Any], Array] | None = None  # state -> the observed signal (N, B), up to a constant offset


def _bold_init(u0: Array, dtype: Any) -> Any:
    return hemo.hemo_init(u0, dtype)


def _bold_step(state: Any, u: Array, dt_s: float) -> Any:
    return hemo.hemo_step(state, u, dt_s, method=BOLD_METHOD)


def _bold_recenter(state: Any, u0: Array) -> Any:
    return hemo.recenter(state, u0)


def _bold_signal(state: Any) -> Array:
    return hemo.bold_signal(state)


#: Integration method of the Balloon–Windkessel step (see engine.model.hemo and README).
BOLD_METHOD: Literal["euler", "heun", "rk4"] = "heun"

_OBSERVATIONS = (
    Observation(name="rE", description="the excitatory rate at every step (the tutorial's FC, no hemodynamics)",
                sampled=False),
    Observation(name="bold", description="BOLD: Balloon–Windkessel (Friston 2003) driven by rE, sampled every TR",
                sampled=True, min_transient_ms=10_000.0, init=_bold_init, step=_bold_step, recenter=_bold_recenter,
                signal=_bold_signal),
)

#: Every observation model by name (read-only).
REGISTRY: Mapping[str, Observation] = MappingProxyType({o.name: o for o in _OBSERVATIONS})

#: Observation names in display order.
NAMES: tuple[str, ...] = tuple(REGISTRY)
assert NAMES == registry_names.OBSERVATIONS, "engine/registry_names.py lists the observations of this registry"
assert tuple(n for n, o in REGISTRY.items() if o.sampled) == registry_names.SAMPLED_OBSERVATIONS, \
    "engine/registry_names.py: the sampled observations"
