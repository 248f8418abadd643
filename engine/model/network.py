"""The Wilson–Cowan network as pure JAX functions, simulated in blocks and streaming FC statistics.

The equations, integrator, delays and random-number order follow the seed notebook's brainmass network
(``WilsonCowanStep`` + ``OUProcess`` noise + ``DiffusiveCoupling`` through a brainstate delay ring
buffer), so that for one candidate and the same key (``stream="seed"``) the FC equals the seed's; see
``engine.model.reference`` and ``tests/test_faithful.py``.

Speed comes from three facts. (1) Every coupled pair has a delay of at least ``d_min`` steps, so the
delayed input of the next ``T ≤ d_min + 1`` steps is already in the history. (2) That input is summed
source by source: a short loop over chunks of ``SOURCE_CHUNK`` source nodes adds, per chunk, the weighted
contiguous time windows (T, B) of each source to an accumulator (N, T, B); XLA fuses each chunk's row
gathers, products and sum into one pass, so the N×N×T windows never exist in memory (a gather of all
windows plus an einsum was 2–4× slower on CPU and needs ≈1 MB per candidate). (3) The FC needs only a
running mean and co-moment, merged per block (Chan et al.) with a batched GEMM, never the time series.
Candidates live on the last array axis (B) so that one call simulates a whole batch. Smaller gains, each
measured with ``wcfit-tui bench``: common noise is drawn four blocks at a time, and on CPU the objective pads
lanes to whole vectors (``lanes_for``).

Its parts, one concept per module: ``engine.model.node`` (one node's step and fixed points), ``engine.model.delays``
(delay steps, the ring, the delayed input) and ``engine.model.noise`` (the initial history and the noise's normals);
this module lays out the blocks, the state carried between them and the FC statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from engine.model.delays import delay_steps, delayed_input, refresh_mirror, source_plan, window_starts
from engine.model.node import Nodes, network_fixed_point, node_constants, node_fixed_point, node_step
from engine.model.noise import NOISE_GROUP, NoiseStream, initial_ring, noise_block, noise_group
from engine.model.regional import START_E, START_I

Array = jax.Array

#: Longest block of steps simulated per history gather.
MAX_BLOCK = 64
#: Candidates per SIMD register on CPU (AVX2 float32): whole vectors of lanes run faster than part-filled ones.
CPU_LANE_MULTIPLE = 8


def lanes_for(platform: str, candidates: int) -> int:
    """Lanes one device simulates for ``candidates``: on CPU a multiple of 8 if that adds at most half again (6 → 8)."""
    if platform != "cpu" or candidates <= 3:
        return candidates
    padded = -(-candidates // CPU_LANE_MULTIPLE) * CPU_LANE_MULTIPLE
    return padded if 2 * padded <= 3 * candidates else candidates  # bounds the memory padding adds per candidate


def chunk_layout(platform: str, candidates: int, fit: int, *, chunk: int | None = None) -> tuple[int, int]:
    """(lanes, lanes per chunk) for one device: chunks of ≤ ``fit`` lanes (≤ 8 on CPU), lanes padded to whole chunks.

    ``chunk`` overrides both caps. On CPU a device whose lanes are whole vectors runs them one vector at a time:
    each chunk's delay ring then stays in cache (2 devices, 16–32 lanes each: 1.3–1.5× faster per candidate).
    Where memory forces chunks, the lanes are padded to equal chunks (never chunks of 1 for a prime batch).
    """
    lanes = lanes_for(platform, candidates)
    if chunk is not None:
        cap = chunk
    else:
        cap = fit
        if platform == "cpu" and lanes % CPU_LANE_MULTIPLE == 0:
            cap = min(cap, CPU_LANE_MULTIPLE)
    cap = max(1, min(lanes, cap))
    n_chunks = -(-lanes // cap)
    size = -(-lanes // n_chunks)
    return n_chunks * size, size


@dataclass(frozen=True, kw_only=True)
class Structure:
    """Static network structure: weights, lengths, time step, ring length and block length."""

    cmat: np.ndarray  # (N, N), zero diagonal
    dmat: np.ndarray  # (N, N) mm, zero diagonal
    dt: float  # ms
    hist_len: int  # the seed's ring length L = max delay steps + 1 (at the slowest speed)
    block: int  # steps per block T, ≤ shortest coupled delay + 1
    ring: int  # our ring length: a multiple of ``block`` ≥ hist_len
    obs_steps: int = 1  # steps per observation step of a sampled observation; divides ``block``

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return int(self.cmat.shape[0])

    @classmethod
    def build(cls, cmat: np.ndarray, dmat: np.ndarray, *, dt: float, speed_range: tuple[float, float],
              max_block: int = MAX_BLOCK, obs_steps: int = 1) -> "Structure":
        """Structure for signal speeds in ``speed_range``; blocks hold whole observation steps of ≤ ``obs_steps``."""
        lo, hi = speed_range
        coupled = (np.asarray(cmat) != 0) & ~np.eye(cmat.shape[0], dtype=bool)
        d_slow = np.asarray(delay_steps(dmat, lo, dt))
        d_fast = np.asarray(delay_steps(dmat, hi, dt))
        hist_len = int(d_slow.max()) + 1
        d_min = int(d_fast[coupled].min()) if coupled.any() else max_block
        block = max(1, min(max_block, d_min + 1))
        obs = max(1, min(obs_steps, block))
        block = block // obs * obs  # a block holds whole observation steps (the delay bound only allows shorter)
        ring = -(-hist_len // block) * block
        return cls(cmat=np.asarray(cmat, np.float64), dmat=np.asarray(dmat, np.float64), dt=float(dt),
                   hist_len=hist_len, block=block, ring=ring, obs_steps=obs)

    def memory_per_candidate(self, itemsize: int = 4) -> int:
        """Approximate working memory of one candidate in bytes (ring, block input and rates, co-moments, state)."""
        n, t = self.n_nodes, self.block
        return itemsize * ((self.ring + t) * n + 2 * n * n + 6 * t * n + 12 * n)


class Stats(NamedTuple):
    """Running count, mean (N, B) and centred co-moment of the recorded rE.

    ``simulate_stats`` returns ``m2`` as (N, N, B); inside the time loop it is kept (B, N, N) for the GEMM.
    """

    count: Array  # type: ignore[assignment]  # the field shadows tuple.count (a method nobody calls on Stats)
    mean: Array
    m2: Array


class Carry(NamedTuple):
    """Everything carried from block to block."""

    nodes: Nodes
    ring: Array  # (N, ring + T, B), or (N, B, ring + T) with per-lane delays: slot (m − 1) mod ring holds r_m;
    #              the last T slots mirror the first T
    key: Array  # (2,) uint32, or (B, 2) with per-candidate noise
    stats: Stats
    noise: Array  # (G, T, 2, N, 1): the current group of common-noise blocks, or (1,) when drawn block by block
    obs: Any = ()  # the sampled observation's state (e.g. Balloon–Windkessel), or () when not sampled
    samples: Any = ()  # (S, N, B) the observed signal every TR after the transient, or () when not sampled


def merge_stats(acc: Stats, block: Array, weight: Array) -> Stats:
    """Fold the weighted steps of a (T, N, B) block of rE into the running mean and co-moment (Chan).

    Inside the simulation ``m2`` is laid out (B, N, N) so that the block co-moment is a batched GEMM.
    """
    w = weight[:, None, None]
    nb = weight.sum()
    safe = jnp.maximum(nb, 1)
    bmean = (w * block).sum(axis=0) / safe  # (N, B)
    xc = (block - bmean) * w  # (T, N, B)
    bm2 = jnp.einsum("tib,tjb->bij", xc, xc, precision=jax.lax.Precision.HIGHEST)  # no TF32 on GPUs
    count = acc.count + nb
    frac = nb / jnp.maximum(count, 1)
    delta = bmean - acc.mean
    mean = acc.mean + delta * frac
    dt = delta.T  # (B, N)
    m2 = acc.m2 + bm2 + dt[:, :, None] * dt[:, None, :] * (acc.count * frac)
    return Stats(count=count, mean=mean, m2=m2)


@dataclass(frozen=True, kw_only=True)
class Sampling:
    """Where a sampled observation is stepped and sampled: every ``obs_steps`` steps, one sample per TR.

    Observation step j (1-based) covers network steps (j − 1)·m + 1 … j·m. Steps 1 … ``first``·m hold the
    transient; sample i (0-based) is the signal at the end of observation step ``first`` + (i + 1)·q.
    """

    obs_steps: int  # m: network steps per observation step
    dt_s: float  # the observation step in seconds (m · dt)
    per_sample: int  # q: observation steps per TR (TR rounded to whole observation steps)
    first: int  # observation steps inside the transient
    n_samples: int  # S

    @property
    def tr_s(self) -> float:
        """The effective sampling interval in seconds (q · m · dt)."""
        return self.per_sample * self.dt_s

    def sample_times_ms(self) -> np.ndarray:
        """Time (ms) of every sample."""
        return (self.first + self.per_sample * np.arange(1, self.n_samples + 1)) * self.dt_s * 1000.0

    @classmethod
    def build(cls, *, s: Structure, n_steps: int, transient_steps: int, tr_s: float) -> "Sampling":
        """The layout for a structure whose blocks hold whole observation steps (``Structure.obs_steps``)."""
        m = s.obs_steps
        dt_s = m * s.dt / 1000.0
        q = max(1, int(round(tr_s / dt_s)))
        first = -(-transient_steps // m)
        n_obs = n_steps // m
        return cls(obs_steps=m, dt_s=dt_s, per_sample=q, first=first, n_samples=max(0, (n_obs - first) // q))


def _regional(p: Mapping[str, Array]) -> bool:
    """Whether any parameter differs over regions (an (N, B) array)."""
    return any(jnp.ndim(v) >= 2 for v in p.values())


@dataclass(frozen=True, kw_only=True)
class SimSpec:
    """Static settings of a batch simulation: everything that shapes the compiled scan."""

    structure: Structure
    batch: int
    n_steps: int
    transient_steps: int
    per_candidate: bool
    stream: NoiseStream = "block"
    dtype: Any = jnp.float32
    unroll: int = 1
    initial: str = "random"  # "random" (the tutorial's) or "steady" (see engine.config.INITIAL_STATES)
    coupling: str = "diffusive"  # a name of engine.model.coupling.REGISTRY
    sampling: Sampling | None = None  # with ``observation``: a sampled observation replaces the FC of rE
    observation: Any = None  # an engine.model.observe.Observation with ``sampled`` True

    @property
    def n_blocks(self) -> int:
        """Blocks that cover ``n_steps`` (the last one may run past it; its extra steps are not recorded)."""
        return -(-self.n_steps // self.structure.block)


def _lane_major(p: Mapping[str, Array]) -> bool:
    """Whether each lane has its own signal speed (and so its own delays: a lane-major ring)."""
    return jnp.asarray(p["signal_speed"]).ndim > 0


def init_state(spec: SimSpec, p: Mapping[str, Array], key: Array) -> Carry:
    """The state before step 1: nodes, delay ring (random history or each lane's fixed point), observation."""
    s, b, dtype = spec.structure, spec.batch, spec.dtype
    n = s.n_nodes
    zeros = jnp.zeros((n, b), dtype)
    if spec.initial == "steady":
        consts = node_constants(p, s.dt)
        if spec.coupling == "diffusive" and not _regional(p):
            rE0, rI0 = node_fixed_point(consts, b, s.dt, dtype)
        else:  # FIC's target state when given (the regional module's START keys), else rest

            start = (jnp.broadcast_to(p[START_E], (n, b)).astype(dtype), jnp.broadcast_to(p[START_I], (n, b)).astype(dtype)) \
                if START_E in p else (zeros, zeros)
            rE0, rI0 = network_fixed_point(consts, jnp.asarray(s.cmat, dtype), spec.coupling, start, s.dt)
        nodes = Nodes(jnp.broadcast_to(rE0, (n, b)), jnp.broadcast_to(rI0, (n, b)), zeros, zeros)
        ring = jnp.broadcast_to(nodes.rE[:, None, :], (n, s.ring + s.block, b))  # the whole history at rest
        u0 = nodes.rE
    else:
        key, ring = initial_ring(key, s, b, spec.per_candidate, spec.stream, dtype)
        nodes = Nodes(zeros, zeros, zeros, zeros)
        u0 = zeros
    if _lane_major(p):
        ring = jnp.swapaxes(ring, 1, 2)  # (N, B, ring + T): each lane's history contiguous (see ``delayed_input``)
    group = NOISE_GROUP if spec.stream == "block" and not spec.per_candidate else 1
    # placeholders hold one number, not none: a sharded zero-size array comes back replicated and breaks the next call
    buffer = jnp.zeros((group, s.block, 2, n, 1) if group > 1 else (1,), dtype)
    if spec.sampling is not None:
        stats = Stats(count=jnp.zeros((), dtype), mean=jnp.zeros((1,), dtype), m2=jnp.zeros((1,), dtype))  # unused
        obs = spec.observation.init(u0, dtype)
        samples = jnp.zeros((spec.sampling.n_samples, n, b), dtype)
    else:
        stats = Stats(count=jnp.zeros((), dtype), mean=zeros, m2=jnp.zeros((b, n, n), dtype))
        obs, samples = (), ()  # type: ignore[assignment]  # no observation state: empty pytrees
    return Carry(nodes=nodes, ring=ring, key=key, stats=stats, noise=buffer, obs=obs, samples=samples)


def _observe_block(spec: SimSpec, obs: Any, samples: Array, rates: Array, b: Array) -> tuple[Any, Array]:
    """Step the sampled observation through a block's observation steps and store the samples that fall in it."""
    smp, ob = spec.sampling, spec.observation
    assert smp is not None
    t, m = spec.structure.block, smp.obs_steps
    per_block = t // m
    u = rates.reshape((per_block, m) + rates.shape[1:]).mean(axis=1)  # mean rE over each observation step
    j0 = b * per_block
    last = max(smp.n_samples - 1, 0)

    def one(carry: tuple[Any, Array], inp: tuple[Array, Array]) -> tuple[tuple[Any, Array], None]:
        state, out = carry
        u_r, r = inp
        j = j0 + r + 1  # 1-based observation step
        state = ob.step(state, u_r, smp.dt_s)
        if smp.first > 0:  # at the end of the transient, re-express the state around the level it settled at
            state = jax.lax.cond(j == smp.first, lambda: ob.recenter(state, u_r), lambda: state)
        rel = j - smp.first
        i = rel // smp.per_sample - 1
        take = (rel > 0) & (rel % smp.per_sample == 0) & (i < smp.n_samples)
        out = jax.lax.cond(take, lambda: jax.lax.dynamic_update_index_in_dim(
            out, ob.signal(state).astype(out.dtype), jnp.clip(i, 0, last), 0), lambda: out)
        return (state, out), None

    (obs, samples), _ = jax.lax.scan(one, (obs, samples), (u, jnp.arange(per_block, dtype=jnp.int32)))
    return obs, samples


def run_blocks(spec: SimSpec, p: Mapping[str, Array], state: Carry, first_block: Array, n_blocks: int,
               record: bool = False) -> tuple[Carry, Array | None]:
    """Simulate ``n_blocks`` blocks from block ``first_block`` (a traced index), carrying the whole state.

    Running the blocks of a simulation in several calls gives the same numbers as one call. With ``record`` it also
    returns every step's rE (n_blocks · T, N, B).
    """
    s, dtype, batch = spec.structure, spec.dtype, spec.batch
    t = s.block
    plan = source_plan(s, window_starts(p, s, batch), dtype=dtype)
    time_axis = 2 if plan[2].ndim == 4 else 1
    rowsum = jnp.asarray(s.cmat, dtype).sum(axis=1)[:, None]
    steps = jnp.arange(t, dtype=jnp.int32)
    consts = node_constants(p, s.dt)
    group = state.noise.shape[0] if state.noise.ndim > 1 else 1
    sampled = spec.sampling is not None

    def block(c: Carry, b: Array) -> tuple[Carry, Array | None]:
        n0 = b * t
        delayed = jnp.moveaxis(delayed_input(c.ring, plan, n0, s), 1, 0)  # (T, N, B)
        if group > 1:  # common noise: a group of blocks per draw, refreshed at its first block
            buffer = jax.lax.cond(b % group == 0, lambda: noise_group(c.key, b // group, s, group, dtype),
                                  lambda: c.noise)
            key, xi = c.key, jax.lax.dynamic_index_in_dim(buffer, b % group, 0, keepdims=False)
        else:
            buffer = c.noise
            key, xi = noise_block(c.key, b, s, spec.per_candidate, spec.stream, dtype)

        def one(x: Nodes, inp: tuple[Array, Array]) -> tuple[Nodes, Array]:
            x = node_step(x, inp[0], inp[1], consts, rowsum, s.dt, spec.coupling)
            return x, x.rE

        nodes, rates = jax.lax.scan(one, c.nodes, (delayed, xi), unroll=spec.unroll)  # rates: r_{n0+1} … r_{n0+T}
        slot = jnp.mod(n0, s.ring)
        ring = jax.lax.dynamic_update_slice_in_dim(c.ring, jnp.moveaxis(rates, 0, time_axis), slot, axis=time_axis)
        ring = refresh_mirror(ring, s, time_axis)
        if sampled:
            stats = c.stats
            obs, samples = _observe_block(spec, c.obs, c.samples, rates, b)
        else:
            absolute = n0 + steps + 1  # step number of each rate, 1-based as the seed's records
            weight = ((absolute > spec.transient_steps) & (absolute <= spec.n_steps)).astype(dtype)
            stats = merge_stats(c.stats, rates, weight)
            obs, samples = c.obs, c.samples
        out = Carry(nodes=nodes, ring=ring, key=key, stats=stats, noise=buffer, obs=obs, samples=samples)
        return out, (rates if record else None)

    blocks = first_block + jnp.arange(n_blocks, dtype=jnp.int32)
    state, rates = jax.lax.scan(block, state, blocks)
    if record:
        assert rates is not None
        rates = rates.reshape((n_blocks * t,) + rates.shape[2:])
    return state, rates


def final_stats(state: Carry) -> Stats:
    """The FC statistics of rE with ``m2`` as (N, N, B)."""
    st = state.stats
    return Stats(count=st.count, mean=st.mean, m2=jnp.transpose(st.m2, (1, 2, 0)))


def simulate_stats(p: Mapping[str, Array], s: Structure, *, batch: int, n_steps: int, transient_steps: int,
                   key: Array, per_candidate: bool, stream: NoiseStream = "block",
                   dtype: jnp.dtype = jnp.float32, unroll: int = 1, coupling: str = "diffusive") -> tuple[Stats, Nodes]:
    """Simulate ``n_steps`` of a batch and return FC statistics of rE after ``transient_steps``.

    ``unroll`` steps of the node loop are unrolled per loop trip (XLA may then fuse differently: last-bit changes).
    """
    spec = SimSpec(structure=s, batch=batch, n_steps=n_steps, transient_steps=transient_steps,
                   per_candidate=per_candidate, stream=stream, dtype=dtype, unroll=unroll, coupling=coupling)
    state = init_state(spec, p, key)
    state, _ = run_blocks(spec, p, state, jnp.zeros((), jnp.int32), spec.n_blocks)
    return final_stats(state), state.nodes


def fc_from_stats(acc: Stats) -> Array:
    """Pearson FC (N, N, B) from the co-moment, as braintools: NaN → 0, unit diagonal."""
    var = jnp.diagonal(acc.m2, axis1=0, axis2=1).T  # (N, B)
    denom = jnp.sqrt(var[:, None, :] * var[None, :, :])
    ok = denom > 0
    fc = jnp.where(ok, acc.m2 / jnp.where(ok, denom, 1), 0.0)
    fc = jnp.nan_to_num(fc, nan=0.0)
    eye = np.eye(fc.shape[0], dtype=bool)[:, :, None]  # a constant (jnp.eye would build it from 64-bit iotas under x64)
    return jnp.where(eye, jnp.ones_like(fc), fc)


def fc_correlation(target_fc: Array, fc: Array) -> Array:
    """Pearson correlation (B,) of the upper triangles (no diagonal) of target (N, N) and model FC (N, N, B)."""
    iu = tuple(i.astype(np.int32) for i in np.triu_indices(target_fc.shape[0], k=1))
    tv = target_fc[iu][:, None]
    mv = fc[iu]  # (M, B)
    tc = tv - tv.mean(axis=0)
    mc = mv - mv.mean(axis=0)
    return (tc * mc).sum(axis=0) / jnp.sqrt((tc * tc).sum(axis=0) * (mc * mc).sum(axis=0))
