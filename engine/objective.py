"""The batch objective: one jitted call scores a whole batch of candidates (loss = 1 − FC correlation).

Batch shapes are fixed (a short last batch is padded), the candidate axis is sharded over all local
devices, and within a device the batch runs in memory-sized chunks, so one compilation serves a run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from engine import model
from engine.config import FitConfig
from engine.data import Dataset

#: Loss given to a candidate whose simulation diverged (the largest possible 1 − corr).
WORST_LOSS = 2.0


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """Scores of one batch, trimmed to the real (unpadded) candidates."""

    losses: np.ndarray  # (B,) finite
    flags: tuple[str, ...]  # "" | "nan" (diverged) | "flat" (no FC variance)
    best_index: int  # index of the lowest loss in this batch
    best_fc: np.ndarray  # (N, N) model FC of that candidate
    wall_s: float
    compile_s: float


def _memory_budget(device: jax.Device) -> int:
    """Bytes one device may spend on a batch: most of its free memory, or a quarter of host RAM on CPU."""
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - some backends do not implement it
        stats = {}
    limit = stats.get("bytes_limit")
    if limit:
        return int(0.7 * (limit - stats.get("bytes_in_use", 0)))
    try:
        return int(0.25 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


class Objective:
    """Scores batches of candidates for one dataset and configuration on all local devices."""

    def __init__(self, dataset: Dataset, config: FitConfig, *, dtype: jnp.dtype = jnp.float32,
                 stream: model.NoiseStream = "block", devices: list[jax.Device] | None = None,
                 chunk: int | None = None, unroll: int | None = None) -> None:
        self.config = config
        self.dataset = dataset
        self.names = config.names
        self.dtype = dtype
        self.stream = stream
        devs = list(devices) if devices is not None else jax.local_devices()
        self.devices = devs[:max(1, min(len(devs), config.batch))]  # no device idles on padding alone
        values = config.values()
        if "signal_speed" in config.bounds:
            speed_range = config.bounds["signal_speed"]
        else:
            speed_range = (values["signal_speed"], values["signal_speed"])
        self.structure = model.Structure.build(dataset.cmat, dataset.dmat, dt=config.dt_ms, speed_range=speed_range)
        n_dev = len(self.devices)
        per_cand = self.structure.memory_per_candidate(np.dtype(dtype).itemsize) * 3  # temporaries
        fit = max(1, _memory_budget(self.devices[0]) // per_cand)
        per_device, self.chunk = model.chunk_layout(self.devices[0].platform, -(-config.batch // n_dev), fit,
                                                    chunk=chunk)
        self.batch = per_device * n_dev  # lanes: the batch padded to whole devices, chunks (and vectors on CPU)
        self.unroll = unroll or 1  # unrolling measured no faster on CPU, and 2× slower with own noise (XLA recomputes
        # the unrolled steps' node updates inside each other's fusions); scripts/gpu_check.sh measures it on a GPU
        self._fixed = {n: v for n, v in values.items() if n not in self.names}
        self._target = np.asarray(dataset.target_fc, np.float64)
        self._key = jax.random.PRNGKey(config.seed)
        self._compiled: object | None = None

    @property
    def description(self) -> str:
        """Where and how batches run, e.g. '2× cpu, batch 12 in 16 lanes, chunks of 8'."""
        kinds = sorted({d.device_kind for d in self.devices})
        lanes = f" in {self.batch} lanes" if self.batch != self.config.batch else ""
        unroll = f", unroll {self.unroll}" if self.unroll > 1 else ""
        return f"{len(self.devices)}× {'/'.join(kinds)}, batch {self.config.batch}{lanes}, chunks of {self.chunk}{unroll}"

    def _score_chunk(self, values: jax.Array, lanes: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """Loss, finite flag, flat flag and FC for one chunk (C, P) of candidates."""
        c = self.config
        p: dict[str, jax.Array] = {n: jnp.asarray(v, self.dtype) for n, v in self._fixed.items()}
        for i, name in enumerate(self.names):
            p[name] = values[:, i].astype(self.dtype)
        batch = values.shape[0]
        per_candidate = not c.common_noise
        key = jax.vmap(lambda i: jax.random.fold_in(self._key, i))(lanes) if per_candidate else self._key
        stats, nodes = model.simulate_stats(p, self.structure, batch=batch, n_steps=c.n_steps,
                                            transient_steps=c.transient_steps, key=key,
                                            per_candidate=per_candidate, stream=self.stream, dtype=self.dtype,
                                            unroll=self.unroll)
        fc = model.fc_from_stats(stats)
        corr = model.fc_correlation(jnp.asarray(self._target, self.dtype), fc)
        finite = jnp.isfinite(stats.m2).all(axis=(0, 1)) & jnp.isfinite(nodes.rE).all(axis=0)
        finite = finite & jnp.isfinite(values).all(axis=1)  # ±inf k saturates the sigmoid: finite rates, no fit
        flat = finite & ~jnp.isfinite(corr)
        loss = jnp.where(finite & ~flat, 1.0 - corr, WORST_LOSS)
        return loss, finite, flat, jnp.moveaxis(fc, -1, 0)

    def _device_fn(self, values: jax.Array, lanes: jax.Array,
                   real: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """Score a device's share in chunks; return losses, flags and the FC of its best real (unpadded) candidate."""
        n = values.shape[0]
        k = n // self.chunk
        if k == 1:
            loss, finite, flat, fcs = self._score_chunk(values, lanes)
        else:
            out = jax.lax.map(lambda a: self._score_chunk(*a),
                              (values.reshape(k, self.chunk, -1), lanes.reshape(k, self.chunk)))
            loss, finite, flat, fcs = (x.reshape((n,) + x.shape[2:]) for x in out)
        best = jnp.argmin(jnp.where(real, loss, jnp.inf))
        return loss, finite, flat, fcs[best][None]

    def lowered(self) -> jax.stages.Lowered:
        """The batch function lowered for the fixed batch shape (sharded when there are several devices)."""
        values = jax.ShapeDtypeStruct((self.batch, len(self.names)), jnp.float32)
        lanes = jax.ShapeDtypeStruct((self.batch,), jnp.int32)
        real = jax.ShapeDtypeStruct((self.batch,), jnp.bool_)
        if len(self.devices) == 1:
            return jax.jit(self._device_fn).lower(values, lanes, real)
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

        mesh = Mesh(np.array(self.devices), ("c",))
        sharded = jax.shard_map(self._device_fn, mesh=mesh, in_specs=(P("c"), P("c"), P("c")),
                                out_specs=(P("c"), P("c"), P("c"), P("c")), check_vma=False)
        spec = NamedSharding(mesh, P("c"))
        return jax.jit(sharded, in_shardings=(spec, spec, spec)).lower(values, lanes, real)

    @property
    def compiled(self) -> bool:
        """Whether the batch function is compiled (the next call will not compile)."""
        return self._compiled is not None

    def compile(self) -> float:
        """Compile now (uses JAX's persistent cache when enabled); return the seconds it took."""
        if self._compiled is not None:
            return 0.0
        t0 = time.perf_counter()
        self._compiled = self.lowered().compile()
        return time.perf_counter() - t0

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> BatchResult:
        """Score candidates (B, P) in the order of ``self.names``; B ≤ the configured batch."""
        values = np.asarray(values, np.float32).reshape(-1, len(self.names))
        real = values.shape[0]
        if not 1 <= real <= self.batch:
            raise ValueError(f"a batch holds 1..{self.batch} candidates, got {real}")
        t0 = time.perf_counter()
        compile_s = self.compile()
        padded = np.concatenate([values, np.repeat(values[:1], self.batch - real, axis=0)]) if real < self.batch else values
        lanes = np.arange(first_lane, first_lane + self.batch, dtype=np.int32)
        is_real = jnp.asarray(np.arange(self.batch) < real)
        loss, finite, flat, best_fcs = self._compiled(jnp.asarray(padded), jnp.asarray(lanes), is_real)  # type: ignore[operator]
        loss = np.asarray(loss, np.float64)[:real]
        finite = np.asarray(finite)[:real]
        flat = np.asarray(flat)[:real]
        best_fcs = np.asarray(best_fcs, np.float64)
        flags = tuple("nan" if not f else ("flat" if fl else "") for f, fl in zip(finite, flat))
        best = int(np.argmin(loss))
        # each device returned the FC of its own best (first minimum); the overall best is one of them
        fc = best_fcs[best // (self.batch // len(self.devices))]
        return BatchResult(losses=loss, flags=flags, best_index=best, best_fc=fc,
                           wall_s=time.perf_counter() - t0 - compile_s, compile_s=compile_s)

    def model_fc(self, candidate: np.ndarray) -> np.ndarray:
        """The model FC (N, N) of one candidate (P,), computed in a batch of its own."""
        res = self(np.asarray(candidate, np.float32).reshape(1, -1))
        return res.best_fc
