"""The GPU-only paths: the NVML device panel, chunks sized by the device's own memory, a GPU Ray actor.

Every test here is marked ``gpu``: it runs where JAX sees a GPU and is skipped, with the reason, elsewhere (the suite's
first and last lines say which backend it ran on). The GPU side of the layout and scoring tests is in
tests/test_lanes.py (``[gpu]`` cases); ``scripts/gpu_check.sh`` runs this file on a lent GPU machine.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from engine.config import FitConfig
from engine.model import network as model
from engine.model import objective as objective_mod
from engine.model.objective import Objective

pytestmark = pytest.mark.gpu
SHORT = dict(duration_ms=200.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})


def _gpu() -> jax.Device:
    return jax.devices("gpu")[0]


def test_nvml_lists_each_gpu_in_info() -> None:
    pytest.importorskip("pynvml", reason="NVML needs nvidia-ml-py (the test extra installs it)")
    from engine.devices import devices, gpu_status, info_lines

    status = gpu_status()
    assert isinstance(status, list) and len(status) >= 1, status  # NVML sees every GPU of the host, JAX those given
    assert status[0].memory_total > status[0].memory_used >= 0 and 0 <= status[0].utilization_pct <= 100
    lines = info_lines()
    assert lines[0].endswith("backend gpu")
    assert any(line.startswith("  GPU 0: ") and status[0].name in line for line in lines), lines
    gpu = [d for d in devices() if d.platform == "gpu"]
    assert gpu and gpu[0].bytes_limit and gpu[0].bytes_in_use is not None  # a GPU reports its memory (a CPU does not)


def test_the_device_panel_shows_the_gpus() -> None:
    pytest.importorskip("pynvml", reason="the NVML panel needs nvidia-ml-py (the test extra installs it)")
    pytest.importorskip("textual", reason="the panel is the app's (pip install -e .)")
    from tui.widgets.device_panel import gather_jax, gather_nvml

    gpus, why = gather_nvml()
    assert why == "" and len(gpus) >= 1, why
    assert gpus[0].startswith("GPU0 ") and "% util" in gpus[0] and "°C" in gpus[0] and " MiB / " in gpus[0]
    backend, lines = gather_jax()
    assert backend.endswith("backend gpu") and lines[0].startswith(f"gpu:{_gpu().id} {_gpu().device_kind}")
    assert "memory not reported" not in lines[0]


def test_the_device_memory_sizes_the_chunks(bundled) -> None:
    """The chunk a GPU runs follows its own memory statistics: a batch twice what fits runs in equal chunks that fit."""
    dev = _gpu()
    stats = dev.memory_stats()
    assert stats and stats["bytes_limit"] > 0  # what memory_budget reads on a GPU
    budget = objective_mod.memory_budget(dev)
    assert 0 < budget <= 0.7 * stats["bytes_limit"]
    cfg = FitConfig(batch=8, **SHORT)
    probe = Objective(bundled, cfg, devices=[dev])
    per_cand = probe.structure.memory_per_candidate() * 3
    fit = budget // per_cand
    batch = min(2 * fit + 1, 1_000_000)
    if batch <= fit:
        pytest.skip(f"this GPU fits {fit:,} candidates of this size: more than a batch may hold")
    big = Objective(bundled, cfg.replace(batch=batch), devices=[dev])  # the layout only: nothing is compiled
    fit_after = objective_mod.memory_budget(dev) // per_cand  # memory in use may have moved by a few bytes
    assert (big.batch, big.chunk) in {model.chunk_layout("gpu", batch, f) for f in (fit, fit_after)}
    assert big.chunks >= 2 and big.chunk * per_cand <= max(budget, fit_after * per_cand)
    assert big.batch - batch < big.chunks
    assert (probe.batch, probe.chunk) == (8, 8)  # a small batch: one chunk, no padding on a GPU


def test_a_gpu_objective_scores_as_the_cpu_within_float32_rounding(bundled) -> None:
    """The same candidates on the GPU and on the CPU: the same losses within float32 rounding, the same best."""
    values = np.linspace(0.5, 3.0, 8, dtype=np.float32).reshape(-1, 1)
    cfg = FitConfig(batch=8, **SHORT)
    on_gpu = Objective(bundled, cfg, devices=[_gpu()])(values)
    on_cpu = Objective(bundled, cfg, devices=jax.devices("cpu")[:1])(values)
    # 1e-5 as tests/test_presets.py: float32 rounding over 2,000 steps, far below a changed seed's effect (≥ 0.02)
    np.testing.assert_allclose(on_gpu.losses, on_cpu.losses, rtol=0, atol=1e-5)
    assert on_gpu.best_index == on_cpu.best_index


@pytest.mark.slow
def test_a_gpu_host_runs_one_gpu_actor(bundled) -> None:
    """A Ray head offering one GPU (stated: --num-gpus 1) gets one GPU actor, which scores as a local GPU run."""
    pytest.importorskip("ray")
    from engine.cluster.objective import ClusterObjective
    from tests.support import cluster_dataset as make_dataset, start_ray_head

    cfg = FitConfig(batch=6, budget=6, seed=4, **SHORT)
    values = np.linspace(0.6, 2.9, 6, dtype=np.float32).reshape(-1, 1)
    with start_ray_head(num_cpus=2, num_gpus=1) as address:
        obj = ClusterObjective(make_dataset(), cfg, address=address)
        try:
            theirs = obj(values, first_lane=0)
            rows, description = obj.actor_rows(), obj.description
        finally:
            obj.close()
    assert len(rows) == 1 and rows[0].platform == "gpu" and rows[0].state == "ready", rows
    assert rows[0].device.startswith("1× ") and _gpu().device_kind in rows[0].device
    # device memory (the GPU's limit as JAX reports it here too, within 10 %), not the host's RAM
    limit = _gpu().memory_stats()["bytes_limit"]
    assert rows[0].memory_in_use is not None and abs(rows[0].memory_total / limit - 1) < 0.1, (rows[0], limit)
    mine = Objective(make_dataset(), cfg, devices=[_gpu()])(values, first_lane=0)
    np.testing.assert_allclose(theirs.losses, mine.losses, rtol=0, atol=1e-5)
    assert "1 actor (1 " in description and "on 1 host" in description
