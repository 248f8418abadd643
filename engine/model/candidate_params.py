"""A batch's candidates as the simulation reads them: fixed and fitted values, maps applied, FIC's weights, and the
checks made before a batch is scored (values out of range, regions FIC cannot hold, FIC's operating point)."""

from __future__ import annotations

from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.model import coupling, regime, regional


class CandidateParams:
    """Turns candidate rows (B, P) into the simulation's parameters ((N, B) where they vary over regions)."""

    def __init__(self, config: FitConfig, dataset: Dataset, *, maps: Mapping[str, np.ndarray], dtype: jnp.dtype,
                 n_nodes: int) -> None:
        self.config, self.names, self.dtype, self.n_nodes = config, config.names, dtype, n_nodes
        self.maps = dict(maps)
        self._fixed = {n: v for n, v in config.values().items() if n not in self.names}
        self.regional = config.regional or config.fic
        self._cmat64 = np.asarray(dataset.cmat, np.float64)
        self._rowsum = self._cmat64.sum(axis=1)[:, None]
        self._checks_fn: Any = None
        if config.fic:
            self._check_fic()

    def _check_fic(self) -> None:
        """A one-line ConfigError when FIC has no positive weight in any region at the centre of the bounds."""
        centre = np.array([[0.5 * (lo + hi) for lo, hi in (self.config.bounds[n] for n in self.names)]], np.float32)
        bad = np.asarray(self.checks(jnp.asarray(centre))[1])[0]
        if bad >= self.n_nodes:
            point = ", ".join(f"{n} {v:g}" for n, v in zip(self.names, centre[0]))
            raise ConfigError(f"feedback inhibition control finds no positive I→E weight in any region (at {point}, "
                              f"fic_target {self.config.values().get('fic_target', float('nan')):g}): lower fic_target "
                              "or the drive, or change the local set")

    def _raw(self, values: jax.Array) -> dict[str, jax.Array]:
        p: dict[str, jax.Array] = {n: jnp.asarray(v, self.dtype) for n, v in self._fixed.items()}
        for i, name in enumerate(self.names):
            p[name] = values[:, i].astype(self.dtype)
        return p

    def with_fic(self, values: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
        """Per-candidate parameters ((N, B) where regional or with FIC) and FIC's infeasible regions per lane (B,)."""
        p = self._raw(values)
        if not self.regional:
            return p, jnp.zeros((values.shape[0],), jnp.int32)
        maps = {m: jnp.asarray(v, self.dtype) for m, v in self.maps.items()}
        return regional.regional_params(p, maps, fic=self.config.fic, coupling=coupling.REGISTRY[self.config.coupling],
                                        cmat=jnp.asarray(self._cmat64, self.dtype),
                                        rowsum=jnp.asarray(self._rowsum, self.dtype), n_nodes=self.n_nodes,
                                        batch=values.shape[0])

    def of(self, values: jax.Array) -> dict[str, jax.Array]:
        """The simulation's parameters of candidates (B, P) (traceable inside a jitted call)."""
        return self.with_fic(values)[0]

    def checks(self, values: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
        """Candidates (B,) out of each regional parameter's valid range, and FIC's infeasible regions (B,) (jitted)."""
        if self._checks_fn is None:
            def checks(v: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
                p, bad = self.with_fic(v)
                return regional.out_of_range(p), bad
            self._checks_fn = jax.jit(checks)
        return self._checks_fn(values)

    def regional_values(self, candidate: np.ndarray) -> dict[str, np.ndarray]:
        """Per-region values (N,) of each parameter that varies over regions for one candidate (P,), FIC's wIE too."""
        if not self.regional:
            return {}
        p, _ = self.with_fic(jnp.asarray(np.asarray(candidate, np.float32).reshape(1, -1)))
        return {k: np.asarray(v, np.float64)[:, 0] for k, v in p.items()
                if not k.startswith("_") and np.ndim(v) == 2 and np.shape(v)[0] == self.n_nodes}

    def operating_point(self, values: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every parameter (N, B) of candidates (B, P) with FIC's held rates (``regional.START_E``/``START_I``) and the
        coupling's own-rate slope (``regime.SELF_COUPLING``); None without FIC (no fixed point is known then)."""
        if not self.config.fic:
            return None
        p, _ = self.with_fic(jnp.asarray(np.asarray(values, np.float32)))
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
        return np.asarray(self.checks(jnp.asarray(np.asarray(values, np.float32)))[1])
