"""The batch objective: a batch of candidates simulated on the device in segments, scored by objective terms.

Batch shapes are fixed (a short last batch is padded), the candidate axis is sharded over all local devices, and
within a device the batch runs in memory-sized chunks, so one compilation serves a run. A candidate may be
minutes of simulated time: the batch runs as jitted segments of a few simulated seconds with the whole state
(nodes, noise, delay ring, FC statistics, BOLD state and samples) kept on the device between them, which gives
progress inside a batch and a stop within one segment, with the same numbers as one long call.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from engine.config import ConfigError, FitConfig
from engine.data.dataset import Dataset
from engine.model import fcd, observe, terms
from engine.model import network as model
from engine.model.batch import (  # noqa: F401 - re-exported: their public path stays engine.model.objective
    SEGMENT_MS,
    WORST_LOSS,
    BatchCancelled,
    BatchResult,
    batch_result,
    candidates_that_fit,
    fit_maps,
    memory_budget,
    obs_steps_for,
    out_of_memory,
)
from engine.model.candidate_params import CandidateParams, Inputs
from engine.model.sharding import lower_sharded
from engine.model.target import FitTarget, build_target, resolve_tr


class Objective:
    """Scores batches of candidates for one dataset and configuration on all local devices."""

    # One class of ~340 lines, near the ~400-line module guide with its imports, on purpose: every method reads
    # the same batch layout (devices, chunks, realisations, the compiled functions, which an out-of-memory retry
    # replaces), so splitting it would pass that layout between modules. What does not need it lives apart:
    # the batch's result, memory budget and maps in batch.py, the multi-device lowering in sharding.py, the
    # candidates' parameters (maps, FIC) and their checks in candidate_params.py.

    def __init__(self, dataset: Dataset, config: FitConfig, *, dtype: jnp.dtype = jnp.float32,
                 stream: model.NoiseStream = "block", devices: list[jax.Device] | None = None,
                 chunk: int | None = None, unroll: int | None = None, segment_ms: float = SEGMENT_MS) -> None:
        self.config = config
        self.dataset = dataset
        self.names = config.names
        self.dtype = dtype
        self.stream = stream
        self.observation = observe.REGISTRY[config.observe]
        self.spec = config.objective_spec
        self.realizations = int(config.realizations)
        devs = list(devices) if devices is not None else jax.local_devices()
        self.devices = devs[:max(1, min(len(devs), config.batch))]  # no device idles on padding alone
        values = config.values()
        if "signal_speed" in config.bounds:
            speed_range = config.bounds["signal_speed"]
        else:
            speed_range = (values["signal_speed"], values["signal_speed"])
        sampled = self.observation.sampled
        self.structure = model.Structure.build(dataset.cmat, dataset.dmat, dt=config.dt_ms, speed_range=speed_range,
                                               obs_steps=obs_steps_for(config.dt_ms) if sampled else 1)
        self.sampling: model.Sampling | None = None
        if sampled:
            self.sampling = model.Sampling.build(s=self.structure, n_steps=config.n_steps,
                                                 transient_steps=config.transient_steps,
                                                 tr_s=resolve_tr(config, dataset))  # type: ignore[arg-type]
        self.target: FitTarget = build_target(config, dataset,
                                              None if self.sampling is None else self.sampling.n_samples)
        n_dev = len(self.devices)
        fit = candidates_that_fit(self.devices[0], self.structure, self.sampling, dtype, self.realizations)
        per_device, self.chunk = model.chunk_layout(self.devices[0].platform, -(-config.batch // n_dev), fit,
                                                    chunk=chunk)
        self.batch = per_device * n_dev  # lanes: the batch padded to whole devices, chunks (and vectors on CPU)
        self.chunks = per_device // self.chunk  # chunks of candidates per device (each simulated R times, see below)
        self.unroll = unroll or 1  # unrolling measured no faster on CPU, and 2× slower with own noise (XLA recomputes
        # the unrolled steps' node updates inside each other's fusions); scripts/gpu_check.sh measures it on a GPU
        self.sim = model.SimSpec(structure=self.structure, batch=self.chunk, n_steps=config.n_steps,
                                 transient_steps=config.transient_steps, per_candidate=not config.common_noise,
                                 stream=stream, dtype=dtype, unroll=self.unroll, initial=config.initial,
                                 sampling=self.sampling, observation=self.observation if sampled else None,
                                 coupling=config.coupling)
        n_blocks = self.sim.n_blocks
        per_segment = max(1, int(segment_ms / config.dt_ms) // self.structure.block)
        self.n_segments = -(-n_blocks // per_segment)
        self.segment_blocks = -(-n_blocks // self.n_segments)  # equal segments, at most n_segments − 1 extra blocks
        #: Each candidate's parameters as the simulation reads them (maps, FIC), and their checks.
        self.params = CandidateParams(config, dataset, maps=fit_maps(config, dataset, self.target.fc), dtype=dtype,
                                      n_nodes=self.structure.n_nodes)
        self._key = jax.random.PRNGKey(config.seed)
        band = None
        if self.sampling is not None and config.bandpass_hz is not None:
            try:
                band = fcd.bandpass_matrix(self.sampling.n_samples, self.sampling.tr_s, *config.bandpass_hz)
            except ValueError as e:
                raise ConfigError(f"band-pass {config.bandpass_hz[0]:g}–{config.bandpass_hz[1]:g} Hz: {e}") from None
        self._band = band
        self._fns: dict[str, Any] | None = None
        #: Where a one-line note goes (the fit's warnings; Search sets it), else the "wcfit" logger.
        self.on_warning: Callable[[str], None] | None = None

    @property
    def description(self) -> str:
        """Where and how batches run, e.g. '2× cpu, batch 12 in 16 lanes, chunks of 8'."""
        kinds = sorted({d.device_kind for d in self.devices})
        lanes = f" in {self.batch} lanes" if self.batch != self.config.batch else ""
        unroll = f", unroll {self.unroll}" if self.unroll > 1 else ""
        reals = f", {self.realizations} noise realisations each" if self.realizations > 1 else ""
        return (f"{len(self.devices)}× {'/'.join(kinds)}, batch {self.config.batch}{lanes}, chunks of {self.chunk}"
                f"{unroll}{reals}")

    @property
    def segment_ms(self) -> float:
        """Simulated ms per segment."""
        return self.segment_blocks * self.structure.block * self.config.dt_ms

    # --- per chunk (C candidates on one device) -------------------------------------------------------------------

    def regional_values(self, candidate: np.ndarray) -> dict[str, np.ndarray]:
        """Per-region values (N,) of each parameter that varies over regions for one candidate (P,), FIC's wIE too."""
        return self.params.regional_values(candidate)

    def operating_point(self, values: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every parameter (N, B) of candidates (B, P) at FIC's held rates; None without FIC."""
        return self.params.operating_point(values)

    def fic_infeasible(self, values: np.ndarray) -> np.ndarray | None:
        """Regions (B,) whose FIC weight is infeasible for candidates (B, P); None without FIC."""
        return self.params.fic_infeasible(values)

    def _chunk_key(self, lanes: jax.Array, real: jax.Array | None = None) -> jax.Array:
        # realisation r draws the noise of seed + r (r = 0 is today's stream), so a run with R realisations holds
        # the runs of seeds seed … seed + R − 1; each realisation is common to every candidate of the batch
        key = self._key if real is None or self.realizations == 1 else jax.random.PRNGKey(self.config.seed + real)
        if self.config.common_noise:
            return key
        return jax.vmap(lambda i: jax.random.fold_in(key, i))(lanes)

    def _init_chunk(self, values: Inputs, lanes: jax.Array, real: jax.Array | None = None) -> model.Carry:
        return model.init_state(self.sim, self.params.of(values), self._chunk_key(lanes, real))

    def _segment_chunk(self, state: model.Carry, values: Inputs, first_block: jax.Array) -> model.Carry:
        return model.run_blocks(self.sim, self.params.of(values), state, first_block, self.segment_blocks)[0]

    def signals(self, state: model.Carry) -> tuple[jax.Array, jax.Array | None, jax.Array]:
        """FC (N, N, C), FCD values (M, C) or None, and the 'finite' flag (C,) of a simulated chunk."""
        finite = jnp.isfinite(state.nodes.rE).all(axis=0)
        if self.sampling is None:
            stats = model.final_stats(state)
            return model.fc_from_stats(stats), None, finite & jnp.isfinite(stats.m2).all(axis=(0, 1))
        y = state.samples  # (S, N, C)
        finite = finite & jnp.isfinite(y).all(axis=(0, 1))
        if self._band is not None:
            y = jnp.einsum("st,tnc->snc", jnp.asarray(self._band, y.dtype), y, precision=jax.lax.Precision.HIGHEST)
        fcd_values = None
        if self.spec.needs_fcd:
            fcd_values = fcd.fcd_values(y, self.target.fcd_window, self.target.fcd_step, edges=self.target.fcd_edge_index)
        return fcd.fc_from_samples(y), fcd_values, finite

    def _score_chunk(self, state: model.Carry) -> tuple[jax.Array, ...]:
        """Loss, finite flag, flat flag, FC correlation, terms (K, C) and FC (C, N, N) of a simulated chunk."""
        return self._evaluate(*self.signals(state))

    def _evaluate(self, fc: jax.Array, fcd_values: jax.Array | None, finite: jax.Array) -> tuple[jax.Array, ...]:
        """``_score_chunk`` from a chunk's signals: FC (N, N, C), FCD values (M, C) or None, finite flags (C,)."""
        tgt_fc = jnp.asarray(self.target.fc, self.dtype)
        tgt = terms.Target(fc=tgt_fc, fcd_sorted=None if self.target.fcd_sorted is None
                           else jnp.asarray(self.target.fcd_sorted, self.dtype), edges=self.target.edge_index)
        signals = terms.Signals(fc=fc, fcd=fcd_values)
        loss, parts = terms.evaluate(self.spec, signals, tgt)
        # the FC correlation r: from the fc term when there is one (a second reduction of the same numbers would
        # change how XLA fuses the first, and the tutorial's losses by an ulp)
        corr = 1.0 - parts["fc"] if "fc" in parts else terms.fc_corr(signals, tgt)
        flat = finite & ~(jnp.isfinite(corr) & jnp.isfinite(loss))
        ok = finite & ~flat
        worst = WORST_LOSS * sum(w for _, w in self.spec.terms)
        loss = jnp.where(ok, loss, jnp.asarray(worst, loss.dtype))
        stacked = jnp.stack([jnp.where(ok, parts[n], jnp.nan) for n, _ in self.spec.terms])
        return loss, finite, flat, jnp.where(ok, corr, jnp.nan), stacked, jnp.moveaxis(fc, -1, 0)

    # --- per device (k chunks) --------------------------------------------------------------------------------------

    def _map_chunks(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn`` over the device's chunks (leading axis k), directly when there is one."""
        if jax.tree.leaves(args)[0].shape[0] == 1:
            return jax.tree.map(lambda x: x[None], fn(*jax.tree.map(lambda x: x[0], args)))
        return jax.lax.map(lambda a: fn(*a), args)

    def _device_init(self, values: Inputs, lanes: jax.Array, reals: jax.Array) -> model.Carry:
        return self._map_chunks(self._init_chunk, values, lanes, reals)

    def _realization_scores(self, state: model.Carry) -> tuple[jax.Array, ...]:
        """Scores of the device's candidate chunks from their R realisations (chunks realisation-major: r·k + c).

        The candidates are scored on the mean of their realisations' FCs (the seed-averaged FC); the FCD term
        compares the FCD values of all realisations pooled (the FCD of a mean signal would be no FCD of the
        model); a candidate is finite only when every realisation is.
        """
        fc, fcd_values, finite = self._map_chunks(self.signals, state)  # (R·k, N, N, C), (R·k, M, C) | None, (R·k, C)
        r, k = self.realizations, self.chunks
        fc = fc.reshape((r, k) + fc.shape[1:]).mean(axis=0)
        finite = finite.reshape((r, k) + finite.shape[1:]).all(axis=0)
        if fcd_values is not None:
            v = jnp.moveaxis(fcd_values.reshape((r, k) + fcd_values.shape[1:]), 0, 1)  # (k, R, M, C)
            fcd_values = v.reshape((k, r * v.shape[2], v.shape[3]))
        return self._map_chunks(lambda a, b, c: self._evaluate(a, b, c), fc, fcd_values, finite)

    def _device_segment(self, state: model.Carry, values: Inputs, first_block: jax.Array) -> model.Carry:
        return self._map_chunks(lambda st, v: self._segment_chunk(st, v, first_block), state, values)

    def _device_finish(self, state: model.Carry, real: jax.Array, extra: jax.Array) -> tuple[jax.Array, ...]:
        """Scores of the device's lanes (plus ``extra``, the host terms' weighted sum, where scored) and the FC of its
        best real (unpadded) candidate."""
        if self.realizations == 1:
            loss, finite, flat, corr, parts, fcs = self._map_chunks(self._score_chunk, state)
        else:
            loss, finite, flat, corr, parts, fcs = self._realization_scores(state)
        n = loss.shape[0] * loss.shape[1]
        loss, finite, flat, corr = (x.reshape(n) for x in (loss, finite, flat, corr))
        loss = jnp.where(finite & ~flat, loss + extra.reshape(n).astype(loss.dtype), loss)
        parts = jnp.moveaxis(parts, 1, 2).reshape(n, parts.shape[1])  # candidates first: devices concatenate on axis 0
        fcs = fcs.reshape((n,) + fcs.shape[2:])
        best = jnp.argmin(jnp.where(real.reshape(n), loss, jnp.inf))
        if self.sampling is None:
            return loss, finite, flat, corr, parts, fcs[best][None]
        if self.realizations == 1:
            samples = jnp.moveaxis(state.samples, -1, 1)  # (k, C, S, N)
            samples = samples.reshape((n,) + samples.shape[2:])
            return loss, finite, flat, corr, parts, fcs[best][None], samples[best][None]
        y = state.samples  # (R·k, S, N, C)
        y = jnp.moveaxis(y.reshape((self.realizations, self.chunks) + y.shape[1:]), (0, 4), (2, 1))  # (k, C, R, S, N)
        y = y.reshape((n,) + y.shape[2:])
        return loss, finite, flat, corr, parts, fcs[best][None], y[best][None]

    # --- compiled functions -------------------------------------------------------------------------------------------

    def _shapes(self) -> tuple[Any, ...]:
        k = len(self.devices) * self.chunks
        kr = k * self.realizations  # simulated chunks: each candidate chunk once per realisation
        n = self.structure.n_nodes
        values = {name: jax.ShapeDtypeStruct((kr, n, self.chunk) if regional else (kr, self.chunk), self.dtype)
                  for name, regional in self.params.layout.items()}
        lanes = jax.ShapeDtypeStruct((kr, self.chunk), jnp.int32)
        reals = jax.ShapeDtypeStruct((kr,), jnp.int32)
        real = jax.ShapeDtypeStruct((k, self.chunk), jnp.bool_)
        extra = jax.ShapeDtypeStruct((k, self.chunk), jnp.float32)
        return values, lanes, reals, real, extra

    def chunk_inputs(self, padded: np.ndarray) -> dict[str, jax.Array]:
        """The simulation's inputs of a full batch (B, P) in the device-chunk layout: (n_dev·R·k, C) and (…, N, C)."""
        k = len(self.devices) * self.chunks
        out = {}
        for name, v in self.params.inputs(padded).items():
            v = v.reshape(k, self.chunk) if v.ndim == 1 else np.moveaxis(v.reshape(v.shape[0], k, self.chunk), 1, 0)
            out[name] = jnp.asarray(self._expand(np.ascontiguousarray(v)))
        return out

    def _expand(self, x: np.ndarray) -> np.ndarray:
        """Per-candidate-chunk host values (n_dev·k, C, …) repeated for each realisation: (n_dev·R·k, C, …)."""
        d, r = len(self.devices), self.realizations
        if r == 1:
            return x
        x = x.reshape((d, 1, self.chunks) + x.shape[1:])
        return np.broadcast_to(x, (d, r) + x.shape[2:]).reshape((d * r * self.chunks,) + x.shape[3:])

    def _reals(self) -> np.ndarray:
        """The realisation of each simulated chunk (n_dev·R·k,): device-major, then realisation, then chunk."""
        d, r, k = len(self.devices), self.realizations, self.chunks
        return np.broadcast_to(np.arange(r, dtype=np.int32)[None, :, None], (d, r, k)).reshape(-1).copy()

    def _lower_all(self) -> dict[str, jax.stages.Lowered]:
        """The init, segment and finish functions lowered for the fixed batch shape (sharded over the devices)."""
        values, lanes, reals, real, extra = self._shapes()
        if len(self.devices) == 1:
            first = jax.ShapeDtypeStruct((), jnp.int32)
            # placed on the one device asked for (a CPU device on a GPU box too), not on JAX's default device
            one = jax.sharding.SingleDeviceSharding(self.devices[0])
            init = jax.jit(self._device_init, in_shardings=one, out_shardings=one)
            state = jax.eval_shape(init, values, lanes, reals)
            seg = jax.jit(self._device_segment, in_shardings=one, out_shardings=one, donate_argnums=0)
            fin = jax.jit(self._device_finish, in_shardings=one, out_shardings=one)
            return {"init": init.lower(values, lanes, reals), "segment": seg.lower(state, values, first),
                    "finish": fin.lower(state, real, extra)}
        return lower_sharded(self.devices, self._device_init, self._device_segment, self._device_finish,
                             (values, lanes, reals, real, extra))

    def lowered(self) -> jax.stages.Lowered:
        """The segment function (the simulation itself) lowered for the fixed batch shape."""
        return self._lower_all()["segment"]

    @property
    def _compiled(self) -> Any:
        """The compiled segment function (None before ``compile``)."""
        return None if self._fns is None else self._fns["segment"]

    @property
    def compiled(self) -> bool:
        """Whether the batch functions are compiled (the next call will not compile)."""
        return self._fns is not None

    def compile(self) -> float:
        """Compile now (uses JAX's persistent cache when enabled); return the seconds it took."""
        if self._fns is not None:
            return 0.0
        t0 = time.perf_counter()
        self._fns = {name: low.compile() for name, low in self._lower_all().items()}
        return time.perf_counter() - t0

    def __call__(self, values: np.ndarray, first_lane: int = 0, *,
                 progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> BatchResult:
        """Score candidates (B, P) in the order of ``self.names``; B ≤ the configured batch.

        ``progress`` gets the simulated ms done after each segment; when ``cancelled()`` turns true between two
        segments the batch stops and ``BatchCancelled`` is raised. Where the device runs out of memory (the sizing
        of chunks is an estimate) the batch is simulated again in chunks half as large, with one line saying so;
        the scores do not depend on the chunks.
        """
        while True:
            try:
                return self._score(values, first_lane, progress, cancelled)
            except RuntimeError as e:
                if not out_of_memory(e) or not self._smaller_chunks():
                    raise

    def _smaller_chunks(self) -> bool:
        """Lay the lanes out in chunks half as large (compiled anew at the next call); False when a chunk is one lane."""
        if self.chunk <= 1:
            return False
        before, n_dev = self.chunk, len(self.devices)
        per_device, self.chunk = model.chunk_layout(self.devices[0].platform, -(-self.config.batch // n_dev), 1,
                                                    chunk=before // 2)
        self.batch, self.chunks = per_device * n_dev, per_device // self.chunk
        self.sim = dataclasses.replace(self.sim, batch=self.chunk)
        self._fns = None
        message = f"device out of memory at {before} candidates per chunk: retrying in chunks of {self.chunk}"
        if self.on_warning is not None:
            self.on_warning(message)
        else:
            logging.getLogger("wcfit").warning(message)
        return True

    def _score(self, values: np.ndarray, first_lane: int, progress: Callable[[float], None] | None,
               cancelled: Callable[[], bool] | None) -> BatchResult:
        """``__call__`` in the current chunk layout."""
        t0 = time.perf_counter()
        compile_s = self.compile()
        state, real, padded = self._simulate(values, first_lane, progress, cancelled)
        # a non-finite parameter (±inf k saturates the sigmoid into finite rates) is no fit: never the best, flagged nan
        usable = np.isfinite(padded).all(axis=1)
        rejected: dict[str, np.ndarray] = {}
        fic_bad = None
        if self.params.regional:
            ranges, infeasible = self.params.checks(padded)
            rejected = {n: np.asarray(v)[:real] for n, v in ranges.items() if np.asarray(v)[:real].any()}
            fic_bad = np.asarray(infeasible)[:real] if self.config.fic else None
        out_of_range = np.zeros(real, bool)
        for v in rejected.values():
            out_of_range |= v
        usable[:real] &= ~out_of_range  # a rejected candidate is never a batch's best
        shape = (len(self.devices) * self.chunks, self.chunk)
        is_real = jnp.asarray(((np.arange(self.batch) < real) & usable).reshape(shape))
        assert self._fns is not None
        frac = np.zeros(self.batch, np.float64)
        if fic_bad is not None:
            frac[:real] = np.asarray(fic_bad, np.float64) / self.structure.n_nodes
        host = self.spec.host_terms  # terms of what the parameters imply (FIC's infeasible regions)
        extra = sum((w * frac for _, w in host), start=np.zeros(self.batch))
        loss, finite, flat, corr, parts, best_fcs, *best_signals = jax.block_until_ready(self._fns["finish"](
            state, is_real, jnp.asarray(extra.reshape(shape), jnp.float32)))  # the wall time includes the simulation
        wall_s = time.perf_counter() - t0 - compile_s  # (dispatch is asynchronous: without a wait it would not)
        return batch_result(self.spec, (loss, finite, flat, corr, parts, best_fcs, *best_signals), real=real,
                            usable=usable, out_of_range=out_of_range, frac=frac, per_device=self.batch // len(self.devices),
                            wall_s=wall_s, compile_s=compile_s, fic_bad=fic_bad,
                            rejected=rejected)

    def _simulate(self, values: np.ndarray, first_lane: int, progress: Callable[[float], None] | None,
                  cancelled: Callable[[], bool] | None) -> tuple[model.Carry, int, np.ndarray]:
        """Run a batch's segments; the final state, the real candidates' count and the padded values."""
        values = np.asarray(values, np.float32).reshape(-1, len(self.names))
        real = values.shape[0]
        if not 1 <= real <= self.batch:
            raise ValueError(f"a batch holds 1..{self.batch} candidates, got {real}")
        self.compile()  # for samples(); after __call__'s timed compile (kept out of wall_s) it returns at once
        fns = self._fns
        assert fns is not None
        padded = np.concatenate([values, np.repeat(values[:1], self.batch - real, axis=0)]) if real < self.batch else values
        shape = (len(self.devices) * self.chunks, self.chunk)
        vals = self.chunk_inputs(padded)
        lanes = jnp.asarray(self._expand(np.arange(first_lane, first_lane + self.batch, dtype=np.int32).reshape(shape)))
        state = fns["init"](vals, lanes, jnp.asarray(self._reals()))
        seg_ms = self.segment_ms
        for i in range(self.n_segments):
            if cancelled is not None and cancelled():
                raise BatchCancelled(f"stopped after {i * seg_ms / 1000:g} of {self.config.duration_ms / 1000:g} "
                                     "simulated seconds of the batch")
            state = fns["segment"](state, vals, jnp.asarray(i * self.segment_blocks, jnp.int32))
            if progress is not None:
                jax.block_until_ready(state.nodes.rE)
                progress(min((i + 1) * seg_ms, self.config.duration_ms))
        return state, real, padded

    def samples(self, values: np.ndarray, first_lane: int = 0) -> np.ndarray:
        """Every candidate's sampled signal (B, S, N) before any band-pass, as the batch call simulates it."""
        if self.sampling is None:
            raise ValueError(f"observation {self.config.observe!r} is not sampled")
        state, real, _ = self._simulate(values, first_lane, None, None)
        y = np.asarray(state.samples, np.float32)  # (k, S, N, C); with R realisations the first one's chunks
        if self.realizations > 1:
            d = len(self.devices)
            y = y.reshape((d, self.realizations, self.chunks) + y.shape[1:])[:, 0].reshape((-1,) + y.shape[1:])
        return np.moveaxis(y, -1, 1).reshape((-1,) + y.shape[1:3])[:real]

    def model_fc(self, candidate: np.ndarray) -> np.ndarray:
        """The model FC (N, N) of one candidate (P,), computed in a batch of its own."""
        res = self(np.asarray(candidate, np.float32).reshape(1, -1))
        return res.best_fc
