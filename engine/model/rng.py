"""JAX's own random numbers, computed in one fused kernel: bit for bit ``jax.random.bits``/``uniform``/``normal``.

JAX's threefry-2x32 runs its twenty rounds as a loop of small kernels, ≈7 ns per 32-bit number on a CPU core; the
same rounds written out here fuse into one vectorised kernel (≈2 ns). The numbers are JAX's exactly — the same key
and shape give the same bits (partitionable threefry: counters are the flat index, the result is x0 ⊕ x1), the same
float32 uniforms and the same normals (√2 · erfinv) — so nothing a fit computes changes (``tests/test_rng.py``).
Only 32-bit floats take this path; others go to ``jax.random``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA  # threefry's key-schedule constant


def _rotl(x: Array, r: int) -> Array:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry_bits(key: Array, shape: tuple[int, ...]) -> Array:
    """32-bit random words of ``shape`` from a raw (2,) uint32 key: ``jax.random.bits(key, shape, uint32)``."""
    n = math.prod(shape)
    if n >= 2 ** 32:
        return jax.random.bits(key, shape, jnp.uint32)
    k0, k1 = key[0], key[1]
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(_PARITY))
    x0 = jnp.zeros((n,), jnp.uint32) + ks[0]  # the counter's high word is 0 below 2³² numbers
    x1 = lax.iota(jnp.uint32, n) + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return (x0 ^ x1).reshape(shape)


def uniform(key: Array, shape: tuple[int, ...], dtype: jnp.dtype = jnp.float32, minval: float = 0.0,
            maxval: float = 1.0) -> Array:
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``, bit for bit (float32 fused; others JAX's)."""
    if jnp.dtype(dtype) != jnp.float32:
        return jax.random.uniform(key, shape, dtype, minval, maxval)
    lo, hi = np.float32(minval), np.float32(maxval)
    bits = threefry_bits(key, shape)
    mantissa = (bits >> np.uint32(32 - 23)) | np.uint32(np.array(1.0, np.float32).view(np.uint32))
    floats = lax.bitcast_convert_type(mantissa, jnp.float32) - np.float32(1.0)
    return lax.max(lo, floats * (hi - lo) + lo)


def normal(key: Array, shape: tuple[int, ...], dtype: jnp.dtype = jnp.float32) -> Array:
    """``jax.random.normal(key, shape, dtype)``, bit for bit (float32 fused; others JAX's)."""
    if jnp.dtype(dtype) != jnp.float32:
        return jax.random.normal(key, shape, dtype)
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0), dtype=np.float32)
    u = uniform(key, shape, jnp.float32, float(lo), 1.0)
    return lax.mul(np.float32(np.sqrt(2)), lax.erf_inv(u))
