"""One Wilson–Cowan node: its state, the constants hoisted out of the time loop, the exponential-Euler step with OU
noise and coupling, and the fixed points a steady start relaxes to.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import jax
import jax.numpy as jnp

from engine.model.coupling import REGISTRY as COUPLINGS

Array = jax.Array


class Nodes(NamedTuple):
    """Node state of a batch: rates and OU noise, each (N, B)."""

    rE: Array
    rI: Array
    oE: Array
    oI: Array


def _exprel(z: Array) -> Array:
    """(exp(z) − 1) / z, with its Taylor series near 0."""
    small = jnp.abs(z) < 1e-3
    zs = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + z * (0.5 + z / 6.0), (jnp.exp(zs) - 1.0) / zs)  # exp − 1: vectorises on CPU, expm1 does not


class NodeConstants(NamedTuple):
    """Per-candidate constants of the node update, each broadcastable to (N, B); computed once per run."""

    k: Array
    ou_keep: Array  # 1 − dt·exprel(−dt/τ_ou)/τ_ou: the OU state's decay factor per step
    kick: Array  # σ √(dt / τ_ou)
    ext_E: Array
    ext_I: Array
    a_E: Array
    a_I: Array
    theta_E: Array
    theta_I: Array
    off_E: Array  # sigmoid(−a_E θ_E)
    off_I: Array
    wEE: Array
    wIE: Array
    wEI: Array
    wII: Array
    r: Array
    tau_E: Array
    tau_I: Array


def node_constants(p: Mapping[str, Array], dt: float) -> NodeConstants:
    """Hoist the parameter-only parts of the node update out of the time loop."""
    tau_ou = jnp.asarray(p["tau_ou"])
    decay = dt * _exprel(-dt / tau_ou)
    return NodeConstants(
        k=p["k"], ou_keep=1.0 - decay / tau_ou, kick=p["sigma"] / jnp.sqrt(tau_ou) * jnp.sqrt(dt),
        ext_E=p["ext_E"], ext_I=p["ext_I"], a_E=p["a_E"], a_I=p["a_I"], theta_E=p["theta_E"], theta_I=p["theta_I"],
        off_E=jax.nn.sigmoid(-p["a_E"] * p["theta_E"]), off_I=jax.nn.sigmoid(-p["a_I"] * p["theta_I"]),
        wEE=p["wEE"], wIE=p["wIE"], wEI=p["wEI"], wII=p["wII"], r=p["r"], tau_E=p["tau_E"], tau_I=p["tau_I"])


def _wc_euler(x: Array, drive: Array, w_self: Array, a: Array, theta: Array, off: Array, r: Array, tau: Array,
              dt: float) -> Array:
    """Exponential-Euler step of dx/dt = (−x + (1 − r x) S(w_self x + drive)) / τ, S the offset sigmoid.

    As brainstate's ``exp_euler_step``: x + dt · exprel(dt · f'(x)) · f(x), with f' written out.
    """
    sig = jax.nn.sigmoid(a * (w_self * x + drive - theta))
    gate = 1.0 - r * x
    f = (-x + gate * (sig - off)) / tau
    jac = (-1.0 - r * (sig - off) + gate * (a * w_self) * sig * (1.0 - sig)) / tau
    return x + dt * _exprel(dt * jac) * f


def node_step(x: Nodes, delayed_sum: Array, xi: Array, c: NodeConstants, rowsum: Array, dt: float,
              coupling: str = "diffusive") -> Nodes:
    """One dt of every node: the coupling (``engine.model.coupling``), OU noise, exponential-Euler Wilson–Cowan update.

    ``delayed_sum`` is Σ_j C_ij r_j(t − d_ij) (N, B); ``xi`` holds the step's normals (2, N, 1|B).
    """
    current = COUPLINGS[coupling].current(c.k, delayed_sum, x.rE, rowsum)
    oE = x.oE * c.ou_keep + c.kick * xi[0]
    oI = x.oI * c.ou_keep + c.kick * xi[1]
    rE = _wc_euler(x.rE, current + oE + c.ext_E - c.wIE * x.rI, c.wEE, c.a_E, c.theta_E, c.off_E, c.r, c.tau_E, dt)
    rI = _wc_euler(x.rI, oI + c.ext_I + c.wEI * x.rE, -c.wII, c.a_I, c.theta_I, c.off_I, c.r, c.tau_I, dt)
    return Nodes(rE=rE, rI=rI, oE=oE, oI=oI)


#: The steps over which a node relaxes from rest to its own fixed point for ``initial="steady"`` (2 s at 0.1 ms).
RELAX_STEPS = 20_000


def node_fixed_point(c: NodeConstants, batch: int, dt: float, dtype: jnp.dtype) -> tuple[Array, Array]:
    """rE and rI (1, B) where an uncoupled, noiseless node settles when started from rest.

    With diffusive coupling the network's homogeneous state at this point is a fixed point of the whole network.
    """
    zero = jnp.zeros((1, batch), dtype)

    def step(_: Array, x: tuple[Array, Array]) -> tuple[Array, Array]:
        rE, rI = x
        rE2 = _wc_euler(rE, c.ext_E - c.wIE * rI, c.wEE, c.a_E, c.theta_E, c.off_E, c.r, c.tau_E, dt)
        rI2 = _wc_euler(rI, c.ext_I + c.wEI * rE, -c.wII, c.a_I, c.theta_I, c.off_I, c.r, c.tau_I, dt)
        return rE2, rI2

    return jax.lax.fori_loop(0, RELAX_STEPS, step, (zero, zero))


def network_fixed_point(c: NodeConstants, cmat: Array, coupling: str, start: tuple[Array, Array], dt: float
                        ) -> tuple[Array, Array]:
    """rE and rI (N, B) where the noiseless network without delays settles from ``start`` (``RELAX_STEPS`` steps).

    Used when the nodes differ (regional parameters, FIC) or the coupling's input depends on the structure
    (additive): then the isolated node's fixed point is not the network's. Without delays the delayed sum is C·rE.
    """
    rowsum = cmat.sum(axis=1)[:, None]

    def step(_: Array, x: tuple[Array, Array]) -> tuple[Array, Array]:
        rE, rI = x
        cur = COUPLINGS[coupling].current(c.k, cmat @ rE, rE, rowsum)
        rE2 = _wc_euler(rE, cur + c.ext_E - c.wIE * rI, c.wEE, c.a_E, c.theta_E, c.off_E, c.r, c.tau_E, dt)
        rI2 = _wc_euler(rI, c.ext_I + c.wEI * rE, -c.wII, c.a_I, c.theta_I, c.off_I, c.r, c.tau_I, dt)
        return rE2, rI2

    return jax.lax.fori_loop(0, RELAX_STEPS, step, start)
