"""scripts/wc_linear.py's surrogate is the engine's own network: its fixed point holds and its Jacobian is the step's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import wc_linear  # noqa: E402

from engine.model.coupling import REGISTRY as COUPLINGS  # noqa: E402
from engine.model.node import Nodes, node_constants, node_step  # noqa: E402
from engine.model.regional import START_E, START_I  # noqa: E402

POINT = {"k": 3.0, "k@fcgradient": 1.5, "wEE@myelinmap": -0.2, "sigma@fcgradient": 0.5}


@pytest.fixture(scope="module")
def surrogate() -> wc_linear.Surrogate:
    args = argparse.Namespace(preset="regional", data="schaefer100", fixed=["fic_target=0.04", "ext_E=1"],
                              param=[f"{n}={v - 1e-6}:{v + 1e-6}" for n, v in POINT.items()])
    return wc_linear.build(args)[1]


def _step(sur: wc_linear.Surrogate, p: dict, z: np.ndarray, dt: float) -> np.ndarray:
    """The engine's node update of every region for one dt, with no noise and no delays (C·rE as the delayed sum)."""
    n = sur.n
    c = node_constants({k: v for k, v in p.items() if not k.startswith("_")}, dt)
    e, i = jnp.asarray(z[:n, None]), jnp.asarray(z[n:, None])
    zero = jnp.zeros((n, 1), jnp.float64)
    out = node_step(Nodes(rE=e, rI=i, oE=zero, oI=zero), sur.cmat @ e, jnp.zeros((2, n, 1), jnp.float64), c,
                    sur.rowsum, dt, coupling=sur.config.coupling)
    return np.concatenate([np.asarray(out.rE)[:, 0], np.asarray(out.rI)[:, 0]])


def test_the_fic_fixed_point_is_the_engines(surrogate: wc_linear.Surrogate) -> None:
    """At the surrogate's fixed point (rE at the FIC target, rI at I*) the engine's noiseless step moves nothing."""
    values = np.array([POINT[n] for n in surrogate.names])
    p, bad = surrogate.params(values)
    assert int(bad[0]) == 0 and surrogate.config.coupling == "additive" and COUPLINGS["additive"]
    z = np.concatenate([np.asarray(p[START_E])[:, 0], np.asarray(p[START_I])[:, 0]])
    np.testing.assert_allclose(_step(surrogate, p, z, 0.1), z, rtol=0, atol=1e-9)


def test_the_jacobian_is_the_engine_steps_derivative(surrogate: wc_linear.Surrogate) -> None:
    """(step(z + h) − step(z − h)) / 2h = I + dt·J to O(dt²): the surrogate linearises the network the engine runs."""
    values = np.array([POINT[n] for n in surrogate.names])
    p, _ = surrogate.params(values)
    n = surrogate.n
    z = np.concatenate([np.asarray(p[START_E])[:, 0], np.asarray(p[START_I])[:, 0]])
    jac = np.asarray(surrogate.jacobian(values))
    dt, h = 1e-3, 1e-6
    for j in (0, 7, n // 2 + 3, n + 5):  # columns: E of both hemispheres (coupling), I (inhibition)
        dz = np.zeros(2 * n)
        dz[j] = h
        col = (_step(surrogate, p, z + dz, dt) - _step(surrogate, p, z - dz, dt)) / (2 * h)
        col[j] -= 1.0
        np.testing.assert_allclose(col / dt, jac[:, j], rtol=0, atol=2e-3 * np.abs(jac[:, j]).max() + 1e-6)
    assert np.abs(jac[:n, :n][~np.eye(n, dtype=bool)]).max() > 0  # the coupling is in it


@pytest.mark.parametrize(("target", "stable"), [(0.04, True), (0.1, False)])
def test_stability_turns_at_the_hopf_point(target: float, stable: bool) -> None:
    """Weakly coupled, the FIC-held node is a damped ≈ 60 Hz focus at rE 0.04 and past its Hopf point at the
    regional preset's 0.1: a complex pair whose real part changes sign between the two."""
    args = argparse.Namespace(preset="regional", data="schaefer100", param=["k=0.0099:0.0101"],
                              fixed=[f"fic_target={target}", "ext_E=1"])
    lam = wc_linear.build(args)[1].leading(np.array([0.01]))
    assert (lam.real < 0) == stable and lam.imag > 0.2
