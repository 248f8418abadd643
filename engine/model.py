"""The Wilson–Cowan network as pure JAX functions, simulated in blocks and streaming FC statistics.

The equations, integrator, delays and random-number order follow the seed notebook's brainmass network
(``WilsonCowanStep`` + ``OUProcess`` noise + ``DiffusiveCoupling`` through a brainstate delay ring
buffer), so that for one candidate and the same key (``noise="seed"``) the FC equals the seed's; see
``engine.reference`` and ``tests/test_faithful.py``.

Speed comes from two facts. (1) Every coupled pair has a delay of at least ``d_min`` steps, so the
delayed input of the next ``T ≤ d_min + 1`` steps is already in the history: one gather of contiguous
time windows and one contraction per block replace a scattered gather every step. (2) The FC needs
only a running mean and co-moment, merged per block (Chan et al.), never the time series.
Candidates live on the last array axis (B) so that one call simulates a whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from brainunit.math import exprel

Array = jax.Array
NoiseStream = Literal["block", "seed"]

#: Upper end of the uniform initial delay history, as the seed's ``Uniform(0, 0.05)``.
HISTORY_INIT_HIGH = 0.05
#: Longest block of steps simulated per history gather.
MAX_BLOCK = 64


def delay_steps(dmat: np.ndarray | Array, speed: float | Array, dt: float) -> Array:
    """Integer delay steps ceil(D / v / dt), computed as brainstate's delay does (float32 ceil)."""
    delay_time = jnp.asarray(dmat) / speed  # ms, as the seed's ``Dmat / signal_speed``
    return jnp.ceil(delay_time / jnp.asarray(dt, dtype=jnp.result_type(delay_time))).astype(jnp.int32)


@dataclass(frozen=True, kw_only=True)
class Structure:
    """Static network structure: weights, lengths, time step, ring length and block length."""

    cmat: np.ndarray  # (N, N), zero diagonal
    dmat: np.ndarray  # (N, N) mm, zero diagonal
    dt: float  # ms
    hist_len: int  # the seed's ring length L = max delay steps + 1 (at the slowest speed)
    block: int  # steps per block T, ≤ shortest coupled delay + 1
    ring: int  # our ring length: a multiple of ``block`` ≥ hist_len

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return int(self.cmat.shape[0])

    @classmethod
    def build(cls, cmat: np.ndarray, dmat: np.ndarray, *, dt: float, speed_range: tuple[float, float],
              max_block: int = MAX_BLOCK) -> "Structure":
        """Structure for signal speeds in ``speed_range`` (equal ends when the speed is fixed)."""
        lo, hi = speed_range
        coupled = (np.asarray(cmat) != 0) & ~np.eye(cmat.shape[0], dtype=bool)
        d_slow = np.asarray(delay_steps(dmat, lo, dt))
        d_fast = np.asarray(delay_steps(dmat, hi, dt))
        hist_len = int(d_slow.max()) + 1
        d_min = int(d_fast[coupled].min()) if coupled.any() else max_block
        block = max(1, min(max_block, d_min + 1))
        ring = -(-hist_len // block) * block
        return cls(cmat=np.asarray(cmat, np.float64), dmat=np.asarray(dmat, np.float64), dt=float(dt),
                   hist_len=hist_len, block=block, ring=ring)

    def memory_per_candidate(self, itemsize: int = 4) -> int:
        """Approximate working memory of one candidate in bytes (ring, windows, co-moment, state)."""
        n, t = self.n_nodes, self.block
        return itemsize * ((self.ring + t) * n + n * n * t + 2 * n * n + 3 * t * n + 8 * n)


class Nodes(NamedTuple):
    """Node state of a batch: rates and OU noise, each (N, B)."""

    rE: Array
    rI: Array
    oE: Array
    oI: Array


class Stats(NamedTuple):
    """Running count, mean (N, B) and centred co-moment (N, N, B) of the recorded rE."""

    count: Array
    mean: Array
    m2: Array


class Carry(NamedTuple):
    """Everything carried from block to block."""

    nodes: Nodes
    ring: Array  # (N, ring + T, B): slot (m − 1) mod ring holds r_m; the last T slots mirror the first T
    key: Array  # (2,) uint32, or (B, 2) with per-candidate noise
    stats: Stats


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

    return _per_lane(draw, key, per_candidate)


def noise_block(key: Array, block_index: Array, s: Structure, per_candidate: bool, stream: NoiseStream,
                dtype: jnp.dtype) -> tuple[Array, Array]:
    """Standard normals (T, 2, N, 1|B) for one block: E then I per step.

    ``seed`` advances the key chain twice per step exactly as brainstate's global key does in the seed
    (bit-identical noise); ``block`` draws the whole block from ``fold_in(key, block)`` in one call.
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
        return k, jax.random.normal(jax.random.fold_in(k, block_index), (t, 2, n), dtype=dtype)

    return _per_lane(whole, key, per_candidate)


def ring_from_history(hist: Array, s: Structure, batch: int) -> Array:
    """Lay the seed's history (L, N, 1|B) into our time-major ring (N, ring + T, B) with its mirror."""
    n = s.n_nodes
    hist = jnp.broadcast_to(hist, (s.hist_len, n, batch))
    ring = jnp.zeros((n, s.ring, batch), hist.dtype)
    ring = ring.at[:, s.ring - s.hist_len:, :].set(jnp.moveaxis(hist, 0, 1))
    return jnp.concatenate([ring, ring[:, : s.block]], axis=1)


def window_starts(p: Mapping[str, Array], s: Structure, batch: int) -> Array:
    """Delay steps (N, N) shared by all candidates, or (N, N, B) when the signal speed varies."""
    speed = jnp.asarray(p["signal_speed"])
    if speed.ndim == 0:
        d = delay_steps(s.dmat, speed, s.dt)
    else:
        d = jax.vmap(lambda v: delay_steps(s.dmat, v, s.dt), out_axes=-1)(jnp.broadcast_to(speed, (batch,)))
    return jnp.clip(d, 0, s.hist_len - 1)


def delayed_windows(ring: Array, d: Array, n0: Array, s: Structure) -> Array:
    """History windows (N_i, N_j, T, B): r_j at steps n0 − d_ij … n0 − d_ij + T − 1, all already known."""
    t = s.block
    start = jnp.mod(n0 - d - 1, s.ring)  # slot of r_{n0 - d}
    j = jnp.arange(s.n_nodes)
    if d.ndim == 2:
        def row(i_start: Array) -> Array:  # (N_j,) starts → (N_j, T, B)
            return jax.vmap(lambda jj, st: jax.lax.dynamic_slice_in_dim(ring[jj], st, t, axis=0))(j, i_start)
        return jax.vmap(row)(start)
    batch = ring.shape[-1]

    def lane(b: Array, st_b: Array) -> Array:  # starts (N, N) for lane b → (N, N, T)
        return jax.vmap(jax.vmap(lambda jj, st: jax.lax.dynamic_slice_in_dim(ring[jj, :, b], st, t), (0, 0)),
                        (None, 0))(j, st_b)
    out = jax.vmap(lane, in_axes=(0, 2), out_axes=-1)(jnp.arange(batch), start)
    return out


def _sigmoid_offset(x: Array, a: Array, theta: Array) -> Array:
    return jax.nn.sigmoid(a * (x - theta)) - jax.nn.sigmoid(-a * theta)


def _exp_euler(f, x: Array, dt: float) -> Array:  # type: ignore[no-untyped-def]
    """One exponential-Euler step of an element-wise ODE, as brainstate's ``exp_euler_step``."""
    value, jac = jax.jvp(f, (x,), (jnp.ones_like(x),))
    return x + dt * exprel(dt * jac) * value


def node_step(x: Nodes, delayed_sum: Array, xi: Array, p: Mapping[str, Array], rowsum: Array, dt: float) -> Nodes:
    """One dt of every node: diffusive coupling, OU noise, exponential-Euler Wilson–Cowan update.

    ``delayed_sum`` is Σ_j C_ij r_j(t − d_ij) (N, B); ``xi`` holds the step's normals (2, N, 1|B).
    """
    current = p["k"] * (delayed_sum - x.rE * rowsum)
    tau_ou = p["tau_ou"]
    decay = dt * exprel(-dt / tau_ou * jnp.ones_like(x.oE))
    kick = p["sigma"] / jnp.sqrt(tau_ou) * jnp.sqrt(dt)
    oE = x.oE + decay * (-x.oE / tau_ou) + kick * xi[0]
    oI = x.oI + decay * (-x.oI / tau_ou) + kick * xi[1]
    inE = current + oE + p["ext_E"]
    inI = oI + p["ext_I"]
    rE0, rI0 = x.rE, x.rI
    fE = lambda r: (-r + (1 - p["r"] * r) * _sigmoid_offset(p["wEE"] * r - p["wIE"] * rI0 + inE, p["a_E"], p["theta_E"])) / p["tau_E"]
    fI = lambda r: (-r + (1 - p["r"] * r) * _sigmoid_offset(p["wEI"] * rE0 - p["wII"] * r + inI, p["a_I"], p["theta_I"])) / p["tau_I"]
    return Nodes(rE=_exp_euler(fE, rE0, dt), rI=_exp_euler(fI, rI0, dt), oE=oE, oI=oI)


def merge_stats(acc: Stats, block: Array, weight: Array) -> Stats:
    """Fold the weighted steps of a (T, N, B) block of rE into the running mean and co-moment (Chan)."""
    w = weight[:, None, None]
    nb = weight.sum()
    safe = jnp.maximum(nb, 1)
    bmean = (w * block).sum(axis=0) / safe
    xc = (block - bmean) * w
    bm2 = jnp.einsum("tib,tjb->ijb", xc, xc)
    count = acc.count + nb
    frac = nb / jnp.maximum(count, 1)
    delta = bmean - acc.mean
    mean = acc.mean + delta * frac
    m2 = acc.m2 + bm2 + delta[:, None, :] * delta[None, :, :] * (acc.count * frac)
    return Stats(count=count, mean=mean, m2=m2)


def simulate_stats(p: Mapping[str, Array], s: Structure, *, batch: int, n_steps: int, transient_steps: int,
                   key: Array, per_candidate: bool, stream: NoiseStream = "block",
                   dtype: jnp.dtype = jnp.float32) -> tuple[Stats, Nodes]:
    """Simulate ``n_steps`` of a batch and return FC statistics of rE after ``transient_steps``."""
    n, t = s.n_nodes, s.block
    key, hist = initial_history(key, s, per_candidate, dtype)
    ring = ring_from_history(hist, s, batch)
    d = window_starts(p, s, batch)
    cmat = jnp.asarray(s.cmat, dtype)
    rowsum = cmat.sum(axis=1)[:, None]
    zeros = jnp.zeros((n, batch), dtype)
    stats = Stats(count=jnp.zeros((), dtype), mean=zeros, m2=jnp.zeros((n, n, batch), dtype))
    carry = Carry(nodes=Nodes(zeros, zeros, zeros, zeros), ring=ring, key=key, stats=stats)
    steps = jnp.arange(t)

    def block(c: Carry, b: Array) -> tuple[Carry, None]:
        n0 = b * t
        win = delayed_windows(c.ring, d, n0, s)  # (N, N, T, B)
        delayed = jnp.einsum("ij,ijtb->tib", cmat, win)  # (T, N, B)
        key, xi = noise_block(c.key, b, s, per_candidate, stream, dtype)

        def one(x: Nodes, inp: tuple[Array, Array]) -> tuple[Nodes, Array]:
            x = node_step(x, inp[0], inp[1], p, rowsum, s.dt)
            return x, x.rE

        nodes, rates = jax.lax.scan(one, c.nodes, (delayed, xi))  # rates: r_{n0+1} … r_{n0+T}
        slot = jnp.mod(n0, s.ring)
        ring = jax.lax.dynamic_update_slice_in_dim(c.ring, jnp.moveaxis(rates, 0, 1), slot, axis=1)
        ring = jax.lax.dynamic_update_slice_in_dim(ring, ring[:, :t], s.ring, axis=1)  # refresh the mirror
        absolute = n0 + steps + 1  # step number of each rate, 1-based as the seed's records
        weight = ((absolute > transient_steps) & (absolute <= n_steps)).astype(dtype)
        return Carry(nodes=nodes, ring=ring, key=key, stats=merge_stats(c.stats, rates, weight)), None

    n_blocks = -(-n_steps // t)
    carry, _ = jax.lax.scan(block, carry, jnp.arange(n_blocks))
    return carry.stats, carry.nodes


def fc_from_stats(acc: Stats) -> Array:
    """Pearson FC (N, N, B) from the co-moment, as braintools: NaN → 0, unit diagonal."""
    var = jnp.diagonal(acc.m2, axis1=0, axis2=1).T  # (N, B)
    denom = jnp.sqrt(var[:, None, :] * var[None, :, :])
    ok = denom > 0
    fc = jnp.where(ok, acc.m2 / jnp.where(ok, denom, 1), 0.0)
    fc = jnp.nan_to_num(fc, nan=0.0)
    eye = jnp.eye(fc.shape[0], dtype=bool)[:, :, None]
    return jnp.where(eye, jnp.ones_like(fc), fc)


def fc_correlation(target_fc: Array, fc: Array) -> Array:
    """Pearson correlation (B,) of the upper triangles (no diagonal) of target (N, N) and model FC (N, N, B)."""
    iu = np.triu_indices(target_fc.shape[0], k=1)
    tv = target_fc[iu][:, None]
    mv = fc[iu]  # (M, B)
    tc = tv - tv.mean(axis=0)
    mc = mv - mv.mean(axis=0)
    return (tc * mc).sum(axis=0) / jnp.sqrt((tc * tc).sum(axis=0) * (mc * mc).sum(axis=0))
