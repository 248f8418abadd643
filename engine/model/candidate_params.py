"""A batch's candidates as the simulation reads them: fixed and fitted values, maps applied, FIC's weights, and the
checks made before a batch is scored (values out of range, regions FIC cannot hold, FIC's operating point).

Where parameters vary over regions (maps, FIC) they are computed here, on the host, before the simulation: in
float64, one candidate at a time, then rounded to the simulation's dtype. A candidate's parameters are then the same
bits whatever batch, chunk or device it runs in — computed inside the jitted call, XLA's float32 code rounded them
differently per lane count (FIC's weights by up to 1e-5), and near an instability that moved a score by 0.1.
The simulation receives them as inputs (``inputs``, a dict of (B,) and (N, B) arrays), not as values to compute from.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.model import coupling, regime, regional

#: What the simulation receives per candidate: fitted values (B,) and per-region values (N, B), by parameter name.
Inputs = Mapping[str, Any]


def _host_device() -> jax.Device:
    """The CPU, where the per-candidate values are computed; JAX's default device where no CPU backend is started."""
    try:
        return jax.local_devices(backend="cpu")[0]
    except RuntimeError:  # JAX_PLATFORMS names only an accelerator
        return jax.local_devices()[0]


class CandidateParams:
    """Turns candidate rows (B, P) into the simulation's parameters ((N, B) where they vary over regions)."""

    def __init__(self, config: FitConfig, dataset: Dataset, *, maps: Mapping[str, np.ndarray], dtype: jnp.dtype,
                 n_nodes: int) -> None:
        self.config, self.names, self.dtype, self.n_nodes = config, config.names, dtype, n_nodes
        self.maps = {m: np.asarray(v, np.float64) for m, v in maps.items()}
        self._fixed = {n: v for n, v in config.values().items() if n not in self.names}
        self.regional = config.regional or config.fic
        self._cmat64 = np.asarray(dataset.cmat, np.float64)
        self._rowsum = self._cmat64.sum(axis=1)[:, None]
        self._host_fn: Any = None
        self._last: tuple[bytes, tuple[dict[str, np.ndarray], np.ndarray]] | None = None  # a batch asks twice
        centre = np.array([[0.5 * (lo + hi) for lo, hi in (config.bounds[n] for n in self.names)]], np.float32)
        #: every input's name and whether it varies over regions (the jitted calls' argument layout)
        self.layout: dict[str, bool] = {k: np.ndim(v) == 2 for k, v in self.inputs(centre).items()}
        if config.fic:
            self._check_fic(centre)

    def _check_fic(self, centre: np.ndarray) -> None:
        """A one-line ConfigError when FIC has no positive weight in any region at the centre of the bounds."""
        bad = self.checks(centre)[1][0]
        if bad >= self.n_nodes:
            point = ", ".join(f"{n} {v:g}" for n, v in zip(self.names, centre[0]))
            raise ConfigError(f"feedback inhibition control finds no positive I→E weight in any region (at {point}, "
                              f"fic_target {self.config.values().get('fic_target', float('nan')):g}): lower fic_target "
                              "or the drive, or change the local set")

    def _host(self, values: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Per-region parameters (B, N) in float64 of candidates (B, P), and their infeasible regions (B,): one jitted
        call that maps a one-candidate body over the rows, so each candidate meets the same code whatever its batch."""
        if self._host_fn is None:
            maps = {m: jnp.asarray(v) for m, v in self.maps.items()}
            cmat, rowsum = jnp.asarray(self._cmat64), jnp.asarray(self._rowsum)

            def one(v: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
                p = {n: jnp.asarray(x, jnp.float64) for n, x in self._fixed.items()}
                p.update({n: v[i][None] for i, n in enumerate(self.names)})
                q, bad = regional.regional_params(p, maps, fic=self.config.fic,
                                                  coupling=coupling.REGISTRY[self.config.coupling], cmat=cmat,
                                                  rowsum=rowsum, n_nodes=self.n_nodes, batch=1)
                return {k: jnp.broadcast_to(x, (self.n_nodes, 1))[:, 0] for k, x in q.items() if jnp.ndim(x) == 2}, bad[0]
            self._host_fn = jax.jit(lambda rows: jax.lax.map(one, rows))
        out, bad = self._host_fn(jnp.asarray(values, jnp.float64))
        return {k: np.asarray(v) for k, v in out.items()}, np.asarray(bad, np.int32)

    def _regional(self, values: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Per-region parameters (N, B) in float64 of candidates (B, P) and their infeasible regions (B,)."""
        key = np.ascontiguousarray(values, np.float32).tobytes() + bytes(str(np.shape(values)), "ascii")
        if self._last is None or self._last[0] != key:
            with jax.enable_x64(True), jax.default_device(_host_device()):
                rows, bad = self._host(np.asarray(values, np.float64))
            self._last = key, ({k: v.T for k, v in rows.items()}, bad)
        return self._last[1]

    def inputs(self, values: Any) -> dict[str, np.ndarray]:
        """What the simulation receives for candidates (B, P): fitted values (B,), per-region values (N, B)."""
        values = np.asarray(values, np.float32).reshape(-1, len(self.names))
        out = {n: values[:, i].astype(self.dtype) for i, n in enumerate(self.names)}
        if self.regional:
            out.update({k: v.astype(self.dtype) for k, v in self._regional(values)[0].items()})
        return out

    def of(self, inputs: Inputs | Any) -> dict[str, jax.Array]:
        """The simulation's parameters from ``inputs`` (traceable inside a jitted call), or from candidates (B, P)."""
        if not isinstance(inputs, Mapping):
            inputs = self.inputs(inputs)
        p: dict[str, jax.Array] = {n: jnp.asarray(v, self.dtype) for n, v in self._fixed.items()}
        p.update({k: jnp.asarray(v) for k, v in inputs.items()})
        return p

    def checks(self, values: Any) -> tuple[dict[str, Any], np.ndarray]:
        """Candidates (B,) out of each regional parameter's valid range, and FIC's infeasible regions (B,)."""
        values = np.asarray(values, np.float32).reshape(-1, len(self.names))
        if not self.regional:
            return {}, np.zeros(len(values), np.int32)
        cols, bad = self._regional(values)
        ranges = regional.out_of_range({k: jnp.asarray(v.astype(self.dtype)) for k, v in cols.items()})
        return {k: np.asarray(v, bool) for k, v in ranges.items()}, bad

    def regional_values(self, candidate: np.ndarray) -> dict[str, np.ndarray]:
        """Per-region values (N,) of each parameter that varies over regions for one candidate (P,), FIC's wIE too."""
        if not self.regional:
            return {}
        p = self.inputs(np.asarray(candidate, np.float32).reshape(1, -1))
        return {k: np.asarray(v, np.float64)[:, 0] for k, v in p.items() if not k.startswith("_") and np.ndim(v) == 2}

    def operating_point(self, values: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every parameter (N, B) of candidates (B, P) with FIC's held rates (``regional.START_E``/``START_I``) and the
        coupling's own-rate slope (``regime.SELF_COUPLING``); None without FIC (no fixed point is known then)."""
        if not self.config.fic:
            return None
        p = self.of(np.asarray(values, np.float32))
        shape = (self.n_nodes, len(values))
        out = {k: np.broadcast_to(np.asarray(v, np.float64), shape) for k, v in p.items()}
        current = coupling.REGISTRY[self.config.coupling].current  # linear in rE_i: its slope is the self-coupling
        zero, k, rowsum = jnp.zeros(shape), jnp.asarray(out["k"]), jnp.asarray(self._rowsum)
        out[regime.SELF_COUPLING] = np.asarray(current(k, zero, zero + 1.0, rowsum) - current(k, zero, zero, rowsum),
                                               np.float64)
        return out

    def fic_infeasible(self, values: np.ndarray) -> np.ndarray | None:
        """Regions (B,) whose FIC weight is infeasible for candidates (B, P); None without FIC."""
        if not self.config.fic:
            return None
        return self.checks(values)[1]
