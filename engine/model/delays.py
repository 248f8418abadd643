"""Delays of the Wilson–Cowan network: integer steps per pair, the ring of past rates, and the delayed input of a
block summed source chunk by source chunk (see ``engine.model.network`` for why blocks and chunks are fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import jax
import jax.numpy as jnp
import numpy as np

if TYPE_CHECKING:
    from engine.model.network import Structure

Array = jax.Array

#: Source nodes whose windows are summed in one fused pass (16 measured best on CPU among 4–40).
SOURCE_CHUNK = 16


def delay_steps(dmat: np.ndarray | Array, speed: float | Array, dt: float) -> Array:
    """Integer delay steps ceil(D / v / dt), computed as brainstate's delay does (float32 ceil)."""
    f32 = jnp.float32  # brainstate's default precision, in which the seed ran (also when JAX's x64 is on)
    delay_time = jnp.asarray(dmat, f32) / jnp.asarray(speed, f32)  # ms, as the seed's ``Dmat / signal_speed``
    return jnp.ceil(delay_time / f32(dt)).astype(jnp.int32)


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
