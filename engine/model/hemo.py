"""Balloon–Windkessel hemodynamics (Friston et al. 2003) in deviation form, batched and float32-safe.

The model, time in seconds, driven by the neural input u (the mean of rE over a step)::

    dx/dt = u − κ x − γ (f − 1)                       (vasodilatory signal)
    df/dt = x                                         (inflow)
    τ dv/dt = f − v^(1/α)                             (blood volume)
    τ dq/dt = f E(f)/ρ − q v^(1/α)/v,  E(f) = 1 − (1 − ρ)^(1/f)   (deoxyhaemoglobin)
    BOLD = V0 [k1 (1 − q) + k2 (1 − q/v) + k3 (1 − v)],  k1 = 7ρ, k2 = 2, k3 = 2ρ − 0.2

For constant input u0 the fixed point is x = 0, f0 = 1 + u0/γ, v0 = f0^α, q0 = v0 E(f0)/ρ (rest: u0 = 0,
f = v = q = 1).

Why deviations: in float32 the plain state (f, v, q ≈ 1) cannot hold what rE ≈ 1e-4 does to it (BOLD
fluctuations ≈ 5e-6 relative, increments per millisecond far below one ulp of 1). The state here is the
deviation (x, f − f0, v − v0, q − q0) from the fixed point of a reference input u0 that may differ per node and
candidate (each lane's own mean, so that an up state at rE ≈ 0.5 still keeps its 1e-3 fluctuations), and every
right-hand side is written in those deviations without cancellation (log1p/expm1), e.g.
(v0 + vd)^(1/α) − v0^(1/α) = f0 · expm1(log1p(vd/v0)/α), computed from (v/v0)^(1/α − 1) − 1 =
expm1((1/α − 1) log1p(vd/v0)), which the q equation needs anyway. The fixed-point relations v0^(1/α) = f0,
v0^(1/α − 1) = f0/v0 and E(f0)/ρ = q0/v0 remove every other power.

brainmass 0.1.1's ``BOLDSignal`` differs from these equations in two places: its ``bold()`` uses
``k2 * (1 - q / rho)`` where the equation (and its own docstring) has ``q / v``, and it starts all four states
at 1 (x must start at 0). We follow the equations.

Arrays are (N, B) (nodes, candidates on the last axis) or anything broadcastable; the state's dtype is the
caller's (float32 in the engine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array
Method = Literal["euler", "heun", "rk4"]
METHODS: tuple[str, ...] = ("euler", "heun", "rk4")


@dataclass(frozen=True, kw_only=True)
class Balloon:
    """Balloon–Windkessel constants (time in seconds), Friston et al. (2003)."""

    kappa: float = 0.65  # s⁻¹, signal decay
    gamma: float = 0.41  # s⁻¹, autoregulation
    tau: float = 0.98  # s, transit time
    alpha: float = 0.32  # Grubb's exponent
    rho: float = 0.34  # resting oxygen extraction fraction
    V0: float = 0.02  # resting blood volume fraction

    def __post_init__(self) -> None:
        for name in ("kappa", "gamma", "tau", "alpha", "rho", "V0"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Balloon.{name} must be a finite number > 0, got {value!r}")
        if self.rho >= 1:
            raise ValueError(f"Balloon.rho must be < 1, got {self.rho!r}")

    @property
    def k1(self) -> float:
        """Intravascular coefficient 7ρ."""
        return 7.0 * self.rho

    @property
    def k2(self) -> float:
        """Concentration coefficient 2."""
        return 2.0

    @property
    def k3(self) -> float:
        """Extravascular coefficient 2ρ − 0.2."""
        return 2.0 * self.rho - 0.2


BALLOON = Balloon()


class Hemo(NamedTuple):
    """Hemodynamic state as deviations from the fixed point of the reference input u0, plus that fixed point."""

    x: Array  # vasodilatory signal (its fixed point is 0)
    fd: Array  # f − f0
    vd: Array  # v − v0
    qd: Array  # q − q0
    u0: Array  # reference input
    f0: Array
    v0: Array
    q0: Array


def fixed_point(u0: Array | float, p: Balloon = BALLOON) -> tuple[Array, Array, Array]:
    """(f0, v0, q0) of the constant input u0 (in u0's dtype): f0 = 1 + u0/γ, v0 = f0^α, q0 = v0 E(f0)/ρ."""
    u0 = jnp.asarray(u0)
    f0 = 1.0 + u0 / p.gamma
    v0 = jnp.exp(p.alpha * jnp.log(f0))
    extraction = -jnp.expm1(math.log1p(-p.rho) / f0)  # E(f0) = 1 − (1 − ρ)^(1/f0)
    return f0, v0, v0 * extraction / p.rho


def hemo_init(u0: Array | float, dtype: jnp.dtype = jnp.float32, p: Balloon = BALLOON) -> Hemo:
    """State at the fixed point of u0 (all deviations 0); u0 = 0 is rest (x = 0, f = v = q = 1)."""
    u0 = jnp.asarray(u0, dtype)
    f0, v0, q0 = fixed_point(u0, p)
    zero = jnp.zeros(jnp.shape(u0), dtype)
    return Hemo(x=zero, fd=zero, vd=zero, qd=zero, u0=u0, f0=f0, v0=v0, q0=q0)


def derivatives(h: Hemo, u: Array, p: Balloon = BALLOON) -> tuple[Array, Array, Array, Array]:
    """Time derivatives (s⁻¹) of (x, fd, vd, qd) for the absolute input u, written without cancellation."""
    du = jnp.asarray(u, h.x.dtype) - h.u0
    f = h.f0 + h.fd
    q = h.q0 + h.qd
    r = h.vd / h.v0
    # (v/v0)^β − 1 with β = 1/α − 1; (v/v0)^(1/α) − 1 = (1 + r)(1 + e_beta) − 1 from it: 3 transcendentals
    e_beta = jnp.expm1((1.0 / p.alpha - 1.0) * jnp.log1p(r))
    dx = du - p.kappa * h.x - p.gamma * h.fd
    # τ dv/dt = f − v^(1/α), with v0^(1/α) = f0
    dvd = (h.fd - h.f0 * (e_beta + r * (1.0 + e_beta))) / p.tau
    # f E(f) − f0 E(f0) = fd E(f0) + f (E(f) − E(f0)); E(f) − E(f0) = −(1 − ρ)^(1/f0) expm1(L (1/f − 1/f0))
    e0_over_rho = h.q0 / h.v0  # E(f0)/ρ
    d_extraction = -(1.0 - p.rho * e0_over_rho) * jnp.expm1(-math.log1p(-p.rho) * h.fd / (f * h.f0))
    inflow = h.fd * e0_over_rho + f * d_extraction / p.rho
    # q v^β − q0 v0^β = v0^β [qd + q ((v/v0)^β − 1)], v0^β = f0/v0
    outflow = (h.f0 / h.v0) * (h.qd + q * e_beta)
    dqd = (inflow - outflow) / p.tau
    return dx, h.x, dvd, dqd


def _advance(h: Hemo, k: tuple[Array, ...], dt: Array) -> Hemo:
    return h._replace(x=h.x + dt * k[0], fd=h.fd + dt * k[1], vd=h.vd + dt * k[2], qd=h.qd + dt * k[3])


def hemo_step(h: Hemo, u: Array, dt_s: float | Array, p: Balloon = BALLOON, method: Method = "heun") -> Hemo:
    """Advance by dt_s seconds with the absolute input u (its mean over the step) held constant."""
    dt = jnp.asarray(dt_s, h.x.dtype)
    k1 = derivatives(h, u, p)
    if method == "euler":
        return _advance(h, k1, dt)
    if method == "heun":
        k2 = derivatives(_advance(h, k1, dt), u, p)
        return _advance(h, tuple(a + b for a, b in zip(k1, k2)), dt * 0.5)
    if method == "rk4":
        half = dt * 0.5
        k2 = derivatives(_advance(h, k1, half), u, p)
        k3 = derivatives(_advance(h, k2, half), u, p)
        k4 = derivatives(_advance(h, k3, dt), u, p)
        return _advance(h, tuple(a + 2.0 * b + 2.0 * c + d for a, b, c, d in zip(k1, k2, k3, k4)), dt / 6.0)
    raise ValueError(f"unknown hemodynamic method {method!r}; choose one of {', '.join(METHODS)}")


def _two_sum(a: Array, b: Array) -> tuple[Array, Array]:
    """s + e == a + b exactly (Knuth's TwoSum), s the rounded sum."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _rebase(dev: Array, old: Array, new: Array) -> Array:
    """old + dev − new, rounded about once (compensated three-term sum)."""
    s, e1 = _two_sum(old, -new)
    t, e2 = _two_sum(s, dev)
    return t + (e1 + e2)


def recenter(h: Hemo, u0_new: Array | float, p: Balloon = BALLOON) -> Hemo:
    """The same physical state as deviations from the fixed point of u0_new (rounded about once per variable)."""
    u0 = jnp.broadcast_to(jnp.asarray(u0_new, h.x.dtype), jnp.broadcast_shapes(jnp.shape(u0_new), h.x.shape))
    f0, v0, q0 = fixed_point(u0, p)
    return Hemo(x=jnp.broadcast_to(h.x, u0.shape), fd=_rebase(h.fd, h.f0, f0), vd=_rebase(h.vd, h.v0, v0),
                qd=_rebase(h.qd, h.q0, q0), u0=u0, f0=f0, v0=v0, q0=q0)


def bold_signal(h: Hemo, p: Balloon = BALLOON) -> Array:
    """BOLD minus the BOLD of the reference fixed point: V0 [−k1 qd + k2 (q0 vd − qd v0)/(v0 v) − k3 vd]."""
    v = h.v0 + h.vd
    return p.V0 * (-p.k1 * h.qd + p.k2 * (h.q0 * h.vd - h.qd * h.v0) / (h.v0 * v) - p.k3 * h.vd)


def bold_level(h: Hemo, p: Balloon = BALLOON) -> Array:
    """BOLD of the reference fixed point, V0 [k1 (1 − q0) + k2 (1 − q0/v0) + k3 (1 − v0)]."""
    return p.V0 * (p.k1 * (1.0 - h.q0) + p.k2 * (1.0 - h.q0 / h.v0) + p.k3 * (1.0 - h.v0))
