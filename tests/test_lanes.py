"""Lane padding (CPU) and node-loop unrolling: layout choices that must not change a score.

The layout is asserted per backend: each score test runs on a CPU device (always present, also on a GPU box, where
``devices=`` places the objective on it) and, marked ``gpu``, on a GPU, where lanes are not padded."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

from engine.model import network as model
from engine.config import FitConfig
from engine.model.objective import Objective

SHORT = dict(duration_ms=200.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})
PLATFORMS = [pytest.param("cpu", id="cpu"), pytest.param("gpu", id="gpu", marks=pytest.mark.gpu)]


def one_device(platform: str) -> list[jax.Device]:
    """The first device of ``platform`` (the objective is placed there whatever JAX's default backend is)."""
    return jax.devices(platform)[:1]


def test_lanes_for_pads_cpu_batches_to_whole_vectors_within_half_again() -> None:
    for n in range(1, 200):
        lanes = model.lanes_for("cpu", n)
        assert lanes >= n and 2 * lanes <= 3 * n
        if lanes != n:
            assert lanes % model.CPU_LANE_MULTIPLE == 0 and lanes - n < model.CPU_LANE_MULTIPLE
        elif n > 3:  # left alone only when no multiple of 8 within half again exists
            padded = -(-n // model.CPU_LANE_MULTIPLE) * model.CPU_LANE_MULTIPLE
            assert padded == n or 2 * padded > 3 * n
        assert model.lanes_for("gpu", n) == n


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("common_noise", [True, False])
def test_padded_lanes_and_unrolling_do_not_change_scores(bundled, common_noise: bool, platform: str) -> None:
    dev = one_device(platform)
    values = np.linspace(0.5, 3.0, 6, dtype=np.float32).reshape(-1, 1)
    cfg = FitConfig(batch=6, common_noise=common_noise, **SHORT)
    padded = Objective(bundled, cfg, devices=dev)
    if platform == "cpu":  # 6 candidates in a whole AVX2 vector of 8 lanes
        assert padded.batch == 8 and "in 8 lanes" in padded.description
    else:  # a GPU has no vector width to fill: the batch as asked
        assert padded.batch == 6 and "lanes" not in padded.description
    assert padded.description.startswith(f"1× {dev[0].device_kind}, batch 6")
    unrolled = Objective(bundled, cfg, devices=dev, unroll=4)
    a, b = padded(values), unrolled(values)
    assert a.losses.shape == (6,)
    np.testing.assert_allclose(a.losses, b.losses, rtol=0, atol=1e-6)
    one = Objective(bundled, FitConfig(batch=1, common_noise=common_noise, **SHORT), devices=dev)
    alone = [one(values[i:i + 1], first_lane=i).losses[0] for i in range(6)]  # each candidate in a batch of its own
    np.testing.assert_allclose(a.losses, alone, rtol=0, atol=1e-5)


@pytest.mark.parametrize("platform", ["cpu", "gpu"])
def test_chunk_layout_fills_equal_chunks_within_the_memory_fit(platform: str) -> None:
    for n in range(1, 130):
        for fit in (1, 3, 7, 8, 13, 64, 10_000):
            lanes, chunk = model.chunk_layout(platform, n, fit)
            base = model.lanes_for(platform, n)
            chunks = lanes // chunk
            assert lanes % chunk == 0 and lanes >= base
            assert chunk <= fit and lanes - base < chunks  # padding only to make the chunks equal
            if platform == "cpu" and base % model.CPU_LANE_MULTIPLE == 0:
                assert chunk <= model.CPU_LANE_MULTIPLE  # a vector at a time: the chunk's ring stays in cache
            elif fit >= base:
                assert (lanes, chunk) == (base, base)  # one chunk when it fits
    assert model.chunk_layout("gpu", 4099, 4096) == (4100, 2050)  # a prime batch: two chunks, not 4,099 of one lane
    assert model.chunk_layout("cpu", 32, 10_000, chunk=16) == (32, 16)  # an explicit chunk overrides the CPU cap


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("common_noise", [True, False])
def test_memory_forced_chunks_do_not_change_scores(bundled, monkeypatch, common_noise: bool, platform: str) -> None:
    dev = one_device(platform)
    values = np.linspace(0.5, 3.0, 7, dtype=np.float32).reshape(-1, 1)
    cfg = FitConfig(batch=7, common_noise=common_noise, **SHORT)
    whole = Objective(bundled, cfg, devices=dev)
    assert (whole.batch, whole.chunk) == ((8, 8) if platform == "cpu" else (7, 7))  # CPU: padded to a vector
    per_cand = whole.structure.memory_per_candidate() * 3
    monkeypatch.setattr("engine.model.batch.memory_budget", lambda device: 3 * per_cand + 1)
    small = Objective(bundled, cfg, devices=dev)
    assert (small.batch, small.chunk) == (9, 3) and small.description.endswith("batch 7 in 9 lanes, chunks of 3")
    a, b = whole(values), small(values)
    np.testing.assert_allclose(a.losses, b.losses, rtol=0, atol=1e-6)
    assert a.best_index == b.best_index
    np.testing.assert_allclose(a.best_fc, b.best_fc, rtol=0, atol=1e-5)


def _oom_above(monkeypatch, lanes: int) -> None:
    """Compiled batches of more than ``lanes`` candidates per chunk fail in their first segment as XLA fails when the
    device is out of memory (an injected failure: the CPU has no device memory to exhaust)."""
    real = Objective.compile

    def compile(self) -> float:
        seconds = real(self)
        if self.chunk > lanes:
            def segment(*args, **kwargs):
                raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate "
                                                 "1073741824 bytes.")
            self._fns["segment"] = segment
        return seconds

    monkeypatch.setattr(Objective, "compile", compile)


def test_out_of_memory_is_retried_in_smaller_chunks_with_the_same_scores(bundled, monkeypatch) -> None:
    cpu = jax.devices("cpu")[:1]
    values = np.linspace(0.5, 3.0, 8, dtype=np.float32).reshape(-1, 1)
    cfg = FitConfig(batch=8, common_noise=False, **SHORT)
    whole = Objective(bundled, cfg, devices=cpu)(values)
    _oom_above(monkeypatch, 2)
    obj = Objective(bundled, cfg, devices=cpu)
    notes: list[str] = []
    obj.on_warning = notes.append
    assert obj.chunk == 8
    res = obj(values)
    assert notes == ["device out of memory at 8 candidates per chunk: retrying in chunks of 4",
                     "device out of memory at 4 candidates per chunk: retrying in chunks of 2"]
    assert (obj.batch, obj.chunk, obj.chunks) == (8, 2, 4) and obj.description.endswith("chunks of 2")
    np.testing.assert_allclose(res.losses, whole.losses, rtol=0, atol=1e-6)
    assert res.best_index == whole.best_index
    obj(values)  # the smaller layout stays: no second retry
    assert len(notes) == 2


def test_out_of_memory_at_one_lane_and_other_errors_are_raised(bundled, monkeypatch) -> None:
    cpu = jax.devices("cpu")[:1]
    _oom_above(monkeypatch, 0)
    obj = Objective(bundled, FitConfig(batch=2, **SHORT), devices=cpu)
    notes: list[str] = []
    obj.on_warning = notes.append
    with pytest.raises(jax.errors.JaxRuntimeError, match="RESOURCE_EXHAUSTED"):
        obj(np.array([[1.0], [2.0]], np.float32))
    assert notes == ["device out of memory at 2 candidates per chunk: retrying in chunks of 1"] and obj.chunk == 1


def test_a_fit_out_of_memory_says_so_in_one_line_without_a_traceback(monkeypatch) -> None:
    from tests.support import run_main

    _oom_above(monkeypatch, 1)  # one lane per chunk fits: 4 → 2 → 1 on one device (2 → 1 where two share the batch)
    r = run_main("fit", "--preset", "tutorial", "--duration", "50", "--budget", "4", "--batch", "4", "--no-record", "--fresh", "0")
    assert r.returncode == 0, r.stderr
    said = [line for line in r.stderr.splitlines() if "out of memory" in line]
    assert 1 <= len(said) <= 2 and all(re.fullmatch(r"warning: device out of memory at (\d) candidates per chunk: "
                                                     r"retrying in chunks of (\d)", line) for line in said), r.stderr
    assert said[-1].endswith("chunks of 1")
    assert "Traceback" not in r.stderr and "RESOURCE_EXHAUSTED" not in r.stderr
