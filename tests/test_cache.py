"""The persistent compilation cache: a second process with the same settings loads the compiled objective."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
import jax.monitoring
hits, misses = [], []
def on_event(name, **kw):
    if name == "/jax/compilation_cache/cache_hits": hits.append(1)
    if name == "/jax/compilation_cache/cache_misses": misses.append(1)
jax.monitoring.register_event_listener(on_event)
from pathlib import Path
from engine.devices import enable_compilation_cache
enable_compilation_cache(Path(sys.argv[1]))
from engine.config import FitConfig
from engine.data.dataset import load_dataset
from engine.model.objective import Objective
obj = Objective(load_dataset(), FitConfig(batch=2, duration_ms=50.0))
res = obj([[1.0], [2.0]])
print(json.dumps({"hits": len(hits), "misses": len(misses), "losses": [float(x) for x in res.losses]}))
"""


def run(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WCFIT_NO_CACHE"}
    env["PYTHONPATH"] = str(ROOT)
    # the losses are compared bit for bit below: on a GPU, XLA's reductions may use atomics, whose order (and last
    # bit) varies from run to run unless deterministic ops are asked for (the flag changes nothing on a CPU)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_gpu_deterministic_ops=true".strip()
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(cache)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_second_run_compiles_nothing_new(tmp_path):
    first = run(tmp_path / "cache")
    assert first["misses"] >= 1
    assert any((tmp_path / "cache").iterdir())
    second = run(tmp_path / "cache")
    assert second["hits"] >= 1 and second["misses"] == 0
    assert second["losses"] == first["losses"]
