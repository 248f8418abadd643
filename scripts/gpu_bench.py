"""Candidate-simulated-seconds per wall second of the presets at large lane counts, for ``scripts/gpu_check.sh``.

One JSON line per (preset, lanes, noise): the ``bold`` preset on the bundled HCP-80 and the ``regional`` preset on
``schaefer100`` (N = 100), each as a fit runs it (its observation, objective, coupling, FIC, 200 s per candidate),
with common noise or each candidate's own (``--own-noise``, or both by default). The rate is marginal: the batch
runs in segments of ``--segment`` simulated ms and only whole segments after the first are timed (each waited for on
the device), so compilation, the initial state and the scoring cancel; the batch is stopped after ``--seconds`` of
timed wall time (``BatchCancelled``), so a slow size costs a bounded time. Each (preset, noise) group gets an equal share of
``--deadline`` seconds (what one leaves goes to the next); sizes past it are reported as skipped. Runs on whatever JAX finds (a CPU dry run: ``--lanes 8,16 --seconds 2``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from engine import presets  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.model.objective import BatchCancelled, Objective  # noqa: E402

DATA = {"bold": None, "regional": "schaefer100"}  # None: the bundled HCP-80


def candidates(cfg, lanes: int, point: dict[str, float], seed: int = 0) -> np.ndarray:
    """``lanes`` candidates around the preset's point (k spread over ±10 %), in the order of ``cfg.names``."""
    rng = np.random.default_rng(seed)
    cols = []
    for name in cfg.names:
        lo, hi = cfg.bounds[name]
        centre = float(point.get(name, (lo + hi) / 2))
        spread = 0.1 * abs(centre) if name == "k" else 0.0
        cols.append(np.clip(centre + rng.uniform(-spread, spread, lanes), lo, hi))
    return np.column_stack(cols).astype(np.float32)


def measure(preset: str, lanes: int, common: bool, segment_ms: float, seconds: float) -> dict:
    p = presets.get(preset)
    ds = load_dataset(DATA[preset])
    cfg = p.config(batch=lanes, budget=lanes, common_noise=common)
    obj = Objective(ds, cfg, segment_ms=segment_ms)
    compile_s = obj.compile()
    marks: list[float] = []

    def progress(done_ms: float) -> None:
        marks.append(time.perf_counter())

    def cancelled() -> bool:
        return len(marks) >= 2 and marks[-1] - marks[1] >= seconds

    t0 = time.perf_counter()
    finished = True
    try:
        obj(candidates(cfg, lanes, dict(p.point)), progress=progress, cancelled=cancelled)
    except BatchCancelled:
        finished = False
    timed = len(marks) - 2  # segments between the first one's end and the last one's end
    row = {"preset": preset, "data": ds.name, "n_nodes": ds.n_nodes, "lanes": lanes,
           "noise": "common" if common else "own", "layout": obj.description, "compile_s": round(compile_s, 2),
           "segment_ms": obj.segment_ms, "first_segment_s": round(marks[0] - t0, 3) if marks else None,
           "segments_timed": max(0, timed), "finished": finished}
    if timed >= 1:
        wall = marks[-1] - marks[1]
        row["s_per_segment"] = round(wall / timed, 4)
        row["sim_s_per_wall_s"] = round(lanes * timed * obj.segment_ms / 1000.0 / wall, 1)
    try:
        stats = obj.devices[0].memory_stats() or {}
        row["device_peak_bytes"] = stats.get("peak_bytes_in_use")
    except Exception:  # noqa: BLE001 - CPU: no statistics
        pass
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="bold,regional")
    ap.add_argument("--lanes", default="256,1024,4096,16384")
    noise = ap.add_mutually_exclusive_group()
    noise.add_argument("--own-noise", action="store_true", help="only each candidate's own noise")
    noise.add_argument("--common-noise", action="store_true", help="only one noise stream for all candidates")
    ap.add_argument("--segment", type=float, default=2000.0, help="simulated ms per timed segment")
    ap.add_argument("--seconds", type=float, default=12.0, help="timed wall seconds per size (after the first segment)")
    ap.add_argument("--deadline", type=float, default=420.0, help="skip what is left after this many seconds")
    args = ap.parse_args(argv)
    modes = [False] if args.own_noise else [True] if args.common_noise else [True, False]
    start = time.monotonic()
    print(json.dumps({"jax": jax.__version__, "backend": jax.default_backend(),
                      "devices": [d.device_kind for d in jax.devices()]}), flush=True)
    groups = [(preset, common) for preset in args.presets.split(",") for common in modes]
    for g, (preset, common) in enumerate(groups):
        until = args.deadline * (g + 1) / len(groups)  # each group its share; time a group leaves goes to the next
        for lanes in (int(x) for x in args.lanes.split(",")):
            where = {"preset": preset, "lanes": lanes, "noise": "common" if common else "own"}
            if time.monotonic() - start > until:
                print(json.dumps({**where, "skipped": f"past this group's share ({until:.0f} s of "
                                                      f"{args.deadline:g} s)"}), flush=True)
                continue
            try:
                print(json.dumps(measure(preset, lanes, common, args.segment, args.seconds)), flush=True)
            except Exception as e:  # noqa: BLE001 - one size failing (e.g. out of memory) must not stop the rest
                print(json.dumps({**where, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
