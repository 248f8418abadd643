"""The seed notebook's own code path (brainmass network, ``for_loop`` storing every step, braintools
metrics), kept verbatim in structure as the reference for faithfulness tests and the benchmark.

Beyond the seed, ``node_params`` sets every other registry parameter through brainmass's own arguments (the
node's time constants, gains, thresholds, local weights and r, the OU noise's τ) and adds ``ext_E`` / ``ext_I``
to the node's inputs; left out, the network is exactly the seed's.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import numpy as np


@contextmanager
def seed_environment() -> Iterator[None]:
    """JAX as the seed ran it: 32-bit (brainstate's default precision) and standard dtype promotion."""
    import jax

    with jax.enable_x64(False), jax.numpy_dtype_promotion("standard"):
        yield


def _in_seed_environment(fn: Callable) -> Callable:  # type: ignore[type-arg]
    """``fn`` called (and traced) in ``seed_environment``, whatever the caller's JAX settings."""

    @functools.wraps(fn)
    def call(*args, **kwargs):  # type: ignore[no-untyped-def]
        with seed_environment():
            return fn(*args, **kwargs)

    return call


#: Registry parameters of brainmass's ``WilsonCowanStep`` (passed by name; the time constants in ms).
NODE_ARGS = ("tau_E", "a_E", "theta_E", "tau_I", "a_I", "theta_I", "wEE", "wIE", "wEI", "wII", "r")


def make_network_class(cmat: np.ndarray, dmat: np.ndarray,
                       node_params: Mapping[str, float] | None = None,
                       coupling: str = "diffusive"):  # type: ignore[no-untyped-def]
    """The seed's ``Network`` module, closed over the given Cmat and Dmat instead of a global ``data``.

    ``node_params`` may hold any of ``NODE_ARGS``, ``tau_ou`` (ms), ``ext_E`` and ``ext_I``; others are an error.
    ``coupling`` "additive" swaps the seed's ``DiffusiveCoupling`` for brainmass's ``AdditiveCoupling``.
    """
    import brainmass
    import brainstate
    import braintools
    import brainunit as u

    n = cmat.shape[0]
    extra = dict(node_params or {})
    unknown = set(extra) - set(NODE_ARGS) - {"tau_ou", "ext_E", "ext_I"}
    if unknown:
        raise ValueError(f"the reference has no parameter {', '.join(sorted(unknown))}")
    node_kw = {name: extra[name] * u.ms if name in ("tau_E", "tau_I") else extra[name]  # type: ignore[attr-defined]  # brainunit's units are made at import
               for name in NODE_ARGS if name in extra}
    ou_kw = {"tau": extra["tau_ou"] * u.ms} if "tau_ou" in extra else {}  # type: ignore[attr-defined]  # brainunit's units are made at import
    ext_E, ext_I = extra.get("ext_E"), extra.get("ext_I")

    class Network(brainstate.nn.Module):
        def __init__(self, signal_speed=2., k=1., sigma=0.01):  # type: ignore[no-untyped-def]
            super().__init__()
            conn_weight = np.array(cmat, copy=True)
            np.fill_diagonal(conn_weight, 0)
            delay_time = np.array(dmat, copy=True) / signal_speed
            np.fill_diagonal(delay_time, 0)
            indices_ = np.arange(conn_weight.shape[1])
            indices_ = np.tile(np.expand_dims(indices_, axis=0), (conn_weight.shape[0], 1))
            self.node = brainmass.WilsonCowanStep(
                n,
                noise_E=brainmass.OUProcess(n, sigma=sigma, init=braintools.init.ZeroInit(), **ou_kw),
                noise_I=brainmass.OUProcess(n, sigma=sigma, init=braintools.init.ZeroInit(), **ou_kw),
                **node_kw,
            )
            delayed = self.node.prefetch_delay('rE', (delay_time * u.ms, indices_), init=braintools.init.Uniform(0, 0.05))
            if coupling == "additive":
                self.coupling = brainmass.AdditiveCoupling(delayed, conn_weight, k=k)
            else:
                self.coupling = brainmass.DiffusiveCoupling(delayed, self.node.prefetch('rE'), conn_weight, k=k)

        def update(self):  # type: ignore[no-untyped-def]
            current = self.coupling()
            if ext_E is None and ext_I is None:
                rE = self.node(current)  # the seed's call
            else:
                rE = self.node(current + (ext_E or 0.0), ext_I)
            return rE

        def step_run(self, i):  # type: ignore[no-untyped-def]
            with brainstate.environ.context(i=i, t=i * brainstate.environ.get_dt()):
                return self.update()

    return Network


def make_simulation(cmat: np.ndarray, dmat: np.ndarray, target_fc: np.ndarray, *, duration_ms: float = 6e3,
                    signal_speed: float = 2.0, with_fc: bool = False,
                    node_params: Mapping[str, float] | None = None,
                    coupling: str = "diffusive") -> Callable:  # type: ignore[type-arg]
    """The seed's ``simulation(k, sigma)`` → FC correlation (and the model FC when ``with_fc``).

    ``node_params`` sets the other registry parameters (see ``make_network_class``).
    """
    import brainstate
    import braintools
    import brainunit as u

    brainstate.environ.set(dt=0.1 * u.ms)  # type: ignore[attr-defined]  # brainunit's units are made at import
    Network = make_network_class(cmat, dmat, node_params, coupling)
    target = np.asarray(target_fc, np.float32)  # the seed's jnp.asarray(fc) with x64 off

    def simulation(k, sigma):  # type: ignore[no-untyped-def]
        net = Network(k=k, sigma=sigma, signal_speed=signal_speed)
        brainstate.nn.init_all_states(net)
        indices = np.arange(0, duration_ms * u.ms // brainstate.environ.get_dt())
        exes = brainstate.transform.for_loop(net.step_run, indices)
        fc = braintools.metric.functional_connectivity(exes)
        corr = braintools.metric.matrix_correlation(target, fc)
        return (corr, fc) if with_fc else corr

    return _in_seed_environment(simulation)


def make_batch_loss(cmat: np.ndarray, dmat: np.ndarray, target_fc: np.ndarray, *, duration_ms: float = 6e3,
                    sigma: float = 0.05) -> Callable:  # type: ignore[type-arg]
    """The seed's jitted ``vmap_loss_fn(k)``: 1 − corr for a batch of k, each lane with its own key."""
    import brainstate

    simulation = make_simulation(cmat, dmat, target_fc, duration_ms=duration_ms)

    @brainstate.transform.jit
    def vmap_loss_fn(k):  # type: ignore[no-untyped-def]
        return 1 - brainstate.transform.vmap2(lambda x: simulation(x, sigma=sigma))(k)

    return _in_seed_environment(vmap_loss_fn)
