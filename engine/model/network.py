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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from engine.model import rng
from engine.model.coupling import REGISTRY as COUPLINGS
from engine.model.regional import START_E, START_I

Array = jax.Array
NoiseStream = Literal["block", "seed"]

#: Upper end of the uniform initial delay history, as the seed's ``Uniform(0, 0.05)``.
HISTORY_INIT_HIGH = 0.05
#: Longest block of steps simulated per history gather.
MAX_BLOCK = 64
#: Source nodes whose windows are summed in one fused pass (16 measured best on CPU among 4–40).
SOURCE_CHUNK = 16
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


def delay_steps(dmat: np.ndarray | Array, speed: float | Array, dt: float) -> Array:
    """Integer delay steps ceil(D / v / dt), computed as brainstate's delay does (float32 ceil)."""
    f32 = jnp.float32  # brainstate's default precision, in which the seed ran (also when JAX's x64 is on)
    delay_time = jnp.asarray(dmat, f32) / jnp.asarray(speed, f32)  # ms, as the seed's ``Dmat / signal_speed``
    return jnp.ceil(delay_time / f32(dt)).astype(jnp.int32)


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


class Nodes(NamedTuple):
    """Node state of a batch: rates and OU noise, each (N, B)."""

    rE: Array
    rI: Array
    oE: Array
    oI: Array


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


def _split(key: Array) -> tuple[Array, Array]:
    k = jax.random.split(key)
    return k[0], k[1]


def _per_lane(fn, key: Array, per_candidate: bool):  # type: ignore[no-untyped-def]
    """Apply ``fn(key) -> (key, x)`` once (shared) or per candidate; x gets a trailing axis (1 or B)."""
    if not per_candidate:
        key, x = fn(key)
        return key, x[..., None]
    key, x = jax.vmap(fn)(key)
    return key, jnp.moveaxis(x, 0, -1)


def initial_history(key: Array, s: Structure, per_candidate: bool, dtype: jnp.dtype) -> tuple[Array, Array]:
    """The seed's random delay history (L, N, 1|B), drawn with one split of the key chain."""

    def draw(k: Array) -> tuple[Array, Array]:
        k, sub = _split(k)
        return k, jax.random.uniform(sub, (s.hist_len, s.n_nodes), dtype=dtype, minval=0.0, maxval=HISTORY_INIT_HIGH)

    if not per_candidate:
        return _per_lane(draw, key, per_candidate)
    key, hist = jax.lax.map(draw, key)  # lane by lane: the random-bit temporaries of one lane at a time
    return key, jnp.moveaxis(hist, 0, -1)


def noise_block(key: Array, block_index: Array, s: Structure, per_candidate: bool, stream: NoiseStream,
                dtype: jnp.dtype) -> tuple[Array, Array]:
    """Standard normals (T, 2, N, 1|B) for one block: E then I per step.

    ``seed`` advances the key chain twice per step exactly as brainstate's global key does in the seed
    (bit-identical noise); ``block`` draws the whole block from ``fold_in(key, block)`` in one call (used per
    candidate; common noise of the default stream comes from ``noise_group``).
    """
    t, n = s.block, s.n_nodes
    if stream == "seed":
        def chain(k: Array) -> tuple[Array, Array]:
            def one(k: Array, _: None) -> tuple[Array, Array]:
                k, kE = _split(k)
                xE = jax.random.normal(kE, (n,), dtype=dtype)
                k, kI = _split(k)
                xI = jax.random.normal(kI, (n,), dtype=dtype)
                return k, jnp.stack([xE, xI])
            return jax.lax.scan(one, k, None, length=t)
        return _per_lane(chain, key, per_candidate)

    def whole(k: Array) -> tuple[Array, Array]:
        return k, rng.normal(jax.random.fold_in(k, block_index), (t, 2, n), dtype)

    return _per_lane(whole, key, per_candidate)


#: Nodes whose initial history is drawn in one piece by the default stream (bounds the random-bit temporaries).
HISTORY_CHUNK = 8


def initial_ring(key: Array, s: Structure, batch: int, per_candidate: bool, stream: NoiseStream,
                 dtype: jnp.dtype) -> tuple[Array, Array]:
    """The ring (N, ring + T, B) holding a uniform [0, 0.05) initial history, and the advanced key.

    ``seed`` draws the history exactly as the seed does (one (L, N) draw). ``block`` draws it straight into
    the ring, a few nodes at a time from ``fold_in(key, chunk)``, so no history-sized temporaries exist.
    """
    if stream == "seed":
        key, hist = initial_history(key, s, per_candidate, dtype)
        return key, ring_from_history(hist, s, batch)
    n, length = s.n_nodes, s.hist_len
    c = max(d for d in range(1, min(n, HISTORY_CHUNK) + 1) if n % d == 0)

    def draw(k: Array, chunk: Array) -> Array:
        return rng.uniform(jax.random.fold_in(k, chunk), (c, length), dtype, 0.0, HISTORY_INIT_HIGH)

    if per_candidate:
        key, sub = jax.vmap(_split)(key)
    else:
        key, sub = _split(key)

    def fill(i: Array, ring: Array) -> Array:
        part = jax.vmap(draw, (0, None), -1)(sub, i) if per_candidate else draw(sub, i)[..., None]
        part = jnp.broadcast_to(part, (c, length, batch))
        return jax.lax.dynamic_update_slice(ring, part, (i * c, s.ring - length, 0))

    ring = jax.lax.fori_loop(0, n // c, fill, jnp.zeros((n, s.ring + s.block, batch), dtype))
    return key, refresh_mirror(ring, s)


#: Blocks of common noise the default stream draws in one call (a lone block's draw costs ≈3× more per number on CPU;
#: 4 keeps batch 1 under 1 MB per candidate).
NOISE_GROUP = 4


def noise_group(key: Array, group_index: Array, s: Structure, group: int, dtype: jnp.dtype) -> Array:
    """Standard normals (G, T, 2, N, 1) shared by all candidates for blocks G·g … G·g + G − 1."""
    return rng.normal(jax.random.fold_in(key, group_index), (group, s.block, 2, s.n_nodes), dtype)[..., None]


def refresh_mirror(ring: Array, s: Structure, axis: int = 1) -> Array:
    """Copy the ring's first T slots into the T mirror slots past its end (along the time ``axis``)."""
    head = jax.lax.slice_in_dim(ring, 0, s.block, axis=axis)
    return jax.lax.dynamic_update_slice_in_dim(ring, head, s.ring, axis=axis)


def ring_from_history(hist: Array, s: Structure, batch: int) -> Array:
    """Lay the seed's history (L, N, 1|B) into our time-major ring (N, ring + T, B) with its mirror."""
    n = s.n_nodes
    hist = jnp.moveaxis(jnp.broadcast_to(hist, (s.hist_len, n, batch)), 0, 1)
    body = jnp.concatenate([jnp.zeros((n, s.ring - s.hist_len, batch), hist.dtype), hist], axis=1)
    return jnp.concatenate([body, body[:, : s.block]], axis=1)


def window_starts(p: Mapping[str, Array], s: Structure, batch: int) -> Array:
    """Delay steps (N, N) shared by all candidates, or (N, N, B) when the signal speed varies.

    Uncoupled pairs (zero weight, e.g. the diagonal) get the longest delay so that they only ever read
    history that is already written.
    """
    speed = jnp.asarray(p["signal_speed"])
    if speed.ndim == 0:
        d = delay_steps(s.dmat, speed, s.dt)
    else:
        d = jax.vmap(lambda v: delay_steps(s.dmat, v, s.dt), out_axes=-1)(jnp.broadcast_to(speed, (batch,)))
    d = jnp.clip(d, 0, s.hist_len - 1)
    coupled = jnp.asarray(s.cmat != 0)
    if d.ndim == 3:
        coupled = coupled[:, :, None]
    return jnp.where(coupled, d, s.hist_len - 1)


def source_plan(s: Structure, d: Array, chunk: int = SOURCE_CHUNK,
                dtype: jnp.dtype = jnp.float32) -> tuple[Array, Array, Array]:
    """Per source chunk: source indices (K, c), weights (K, c, N_i) and delays (K, c, N_i[, B]).

    Sources are padded to a multiple of ``chunk`` with weight 0 (reading source 0 at a safe delay).
    """
    n = s.n_nodes
    c = min(chunk, n)
    k = -(-n // c)
    pad = k * c - n
    src = np.concatenate([np.arange(n), np.zeros(pad, np.int64)]).reshape(k, c)
    w = np.concatenate([np.asarray(s.cmat, np.float64).T, np.zeros((pad, n))]).reshape(k, c, n)
    dt = jnp.swapaxes(d, 0, 1)  # (N_j, N_i[, B])
    dt = jnp.concatenate([dt, jnp.full((pad,) + dt.shape[1:], s.hist_len - 1, dt.dtype)]).reshape((k, c) + dt.shape[1:])
    return jnp.asarray(src, jnp.int32), jnp.asarray(w, dtype), dt


def _lane_windows(row: Array, start: Array, t: int) -> Array:
    """Windows (N_i, B, T) of one source's lane-major ring row (B, ring + T) starting at ``start`` (N_i, B)."""
    lanes = jnp.broadcast_to(jnp.arange(row.shape[0], dtype=start.dtype)[None, :], start.shape)
    dn = jax.lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0, 1))
    win = jax.lax.gather(row, jnp.stack([lanes, start], -1).reshape(-1, 2), dn, slice_sizes=(1, t),
                         mode="promise_in_bounds")  # (N_i·B, T): each a contiguous run of one lane's history
    return win.reshape(start.shape + (t,))


def delayed_input(ring: Array, plan: tuple[Array, Array, Array], n0: Array, s: Structure) -> Array:
    """Σ_j C_ij r_j(n − d_ij) for the block's steps n0 + 1 … n0 + T, as (N_i, T, B), summed source chunk by chunk.

    With one delay per pair (``plan`` delays (K, c, N_i)) the ring is (N, ring + T, B) and each window is a contiguous
    run of T·B numbers of the flattened row. With per-lane delays (K, c, N_i, B) the ring is lane-major
    (N, B, ring + T) and each window a contiguous run of T numbers (B-strided windows ran ≈4× slower at 16 lanes).
    """
    src, w, d = plan
    t = s.block
    shared = d.ndim == 3
    b = ring.shape[-1] if shared else ring.shape[1]
    if shared:
        ring = ring.reshape(ring.shape[0], -1)
        dn = jax.lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(), start_index_map=(0,))
    acc0 = jnp.zeros((s.n_nodes, t * b) if shared else (s.n_nodes, b, t), ring.dtype)

    def chunk(acc: Array, part: tuple[Array, Array, Array]) -> tuple[Array, None]:
        js, ws, ds = part
        for q in range(js.shape[0]):  # unrolled: one fused pass per chunk
            row = jax.lax.dynamic_index_in_dim(ring, js[q], 0, keepdims=False)
            start = jnp.mod(n0 - ds[q] - 1, s.ring)  # slot of r_{n0 - d}
            if shared:
                win = jax.lax.gather(row, (start * b)[:, None], dn, slice_sizes=(t * b,), mode="promise_in_bounds")
                acc = acc + ws[q][:, None] * win
            else:
                acc = acc + ws[q][:, None, None] * _lane_windows(row, start, t)
        return acc, None

    acc, _ = jax.lax.scan(chunk, acc0, (src, w, d))
    return acc.reshape(s.n_nodes, t, b) if shared else jnp.swapaxes(acc, 1, 2)


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
