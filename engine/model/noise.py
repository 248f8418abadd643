"""The network's random numbers: the initial delay history and the OU noise's normals, in the seed's order
(``stream="seed"``, brainstate's key chain) or block by block (the default stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import jax
import jax.numpy as jnp

from engine.model.delays import refresh_mirror, ring_from_history

if TYPE_CHECKING:
    from engine.model.network import Structure

Array = jax.Array
NoiseStream = Literal["block", "seed"]

#: Upper end of the uniform initial delay history, as the seed's ``Uniform(0, 0.05)``.
HISTORY_INIT_HIGH = 0.05


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
        return k, jax.random.normal(jax.random.fold_in(k, block_index), (t, 2, n), dtype=dtype)

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
        return jax.random.uniform(jax.random.fold_in(k, chunk), (c, length), dtype=dtype, minval=0.0,
                                  maxval=HISTORY_INIT_HIGH)

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
    return jax.random.normal(jax.random.fold_in(key, group_index), (group, s.block, 2, s.n_nodes), dtype=dtype)[..., None]
