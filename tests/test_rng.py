"""engine.model.rng: JAX's random numbers in one fused kernel, bit for bit the same as jax.random's."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine.model import rng

SHAPES = [(1,), (7,), (1000,), (4, 30, 2, 80), (3, 5, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 7, 2 ** 31 + 5])
def test_bits_equal_jax(shape: tuple[int, ...], seed: int) -> None:
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 3)
    want = np.asarray(jax.random.bits(key, shape, jnp.uint32))
    got = np.asarray(jax.jit(rng.threefry_bits, static_argnums=1)(key, shape))
    assert got.shape == shape and got.dtype == np.uint32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_and_normal_equal_jax(shape: tuple[int, ...]) -> None:
    key = jax.random.PRNGKey(11)
    np.testing.assert_array_equal(np.asarray(jax.jit(rng.uniform, static_argnums=(1, 2, 3, 4))(
        key, shape, jnp.float32, 0.0, 0.05)), np.asarray(jax.random.uniform(key, shape, jnp.float32, 0.0, 0.05)))
    np.testing.assert_array_equal(np.asarray(jax.jit(rng.normal, static_argnums=(1, 2))(key, shape, jnp.float32)),
                                  np.asarray(jax.random.normal(key, shape, jnp.float32)))


def test_per_lane_keys_under_vmap_equal_jax() -> None:
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(5), i))(jnp.arange(6))
    want = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 2), (30, 2, 80), jnp.float32))(keys)
    got = jax.jit(jax.vmap(lambda k: rng.normal(jax.random.fold_in(k, 2), (30, 2, 80), jnp.float32)))(keys)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_normals_are_standard() -> None:
    z = np.asarray(rng.normal(jax.random.PRNGKey(3), (200_000,), jnp.float32), np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01  # 4 standard errors of 200,000 draws


def test_other_dtypes_go_to_jax() -> None:
    key = jax.random.PRNGKey(1)  # the suite runs with x64 on (conftest)
    np.testing.assert_array_equal(np.asarray(rng.normal(key, (5,), jnp.float64)),
                                  np.asarray(jax.random.normal(key, (5,), jnp.float64)))
