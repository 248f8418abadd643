"""``wcfit-tui bench``: the engine against the seed's own code path, side by side in one process.

For each batch size both the reference (the seed's jitted ``vmap2`` objective, ``engine.model.reference``) and
the engine (``engine.model.objective.Objective``) score the same k values (spread over [0.5, 3], σ 0.05) for
the same simulated duration, on the current default device(s). Timings are the best of ≥ 2 calls after
compilation. The engine's memory per candidate is XLA's compiled memory analysis (arguments + outputs +
temporaries) of its batch call, on every backend; the reference (brainstate's jit cannot be compiled ahead of
time) reports the device's peak bytes in use where the backend has them (GPU). That peak only ever grows in a
process, so batch sizes are measured smallest first: each reference row's peak is then its own.
"""

from __future__ import annotations

import sys

import argparse
import json
import time
from typing import Any, Callable

import numpy as np

#: Default batch sizes measured.
DEFAULT_BATCHES = (1, 4, 16)


def _parse_batches(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--batch takes comma-separated integers, got {text!r}") from exc
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"--batch takes positive integers, got {text!r}")
    return out


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _time_calls(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall time of ``repeats`` calls (each waits for its result)."""
    import jax

    best = float("inf")
    for _ in range(max(2, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_bytes(device: Any) -> int | None:
    """Peak device bytes in use, or None where the backend does not report it (CPU)."""
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory stats
        return None
    peak = stats.get("peak_bytes_in_use")
    return int(peak) if peak else None


def _analysis_bytes(compiled: Any) -> int | None:
    """Arguments + outputs + temporaries of a compiled executable, less donated buffers (XLA's memory analysis)."""
    try:
        m = compiled.memory_analysis()
    except Exception:  # noqa: BLE001 - not every backend implements it
        return None
    if m is None:
        return None
    # a donated argument that the output reuses (the segment's carried state) is one buffer, not two
    alias = int(getattr(m, "alias_size_in_bytes", 0) or 0)
    return int(m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes) - alias


def _row(batch: int, compile_s: float, wall_s: float, duration_ms: float, mem: int | None, mem_how: str) -> dict[str, Any]:
    return {"batch": batch, "compile_s": compile_s, "wall_s": wall_s, "candidates_per_s": batch / wall_s,
            "s_per_candidate": wall_s / batch, "sim_s_per_wall_s": batch * duration_ms / 1000.0 / wall_s,
            "mem_per_candidate_bytes": None if mem is None else mem / batch, "mem_source": mem_how}


def bench_reference(data: Any, batch: int, duration_ms: float, repeats: int = 2) -> dict[str, Any]:
    """Time the seed's jitted vmap2 objective on ``batch`` values of k."""
    import jax
    import jax.numpy as jnp

    from engine.model import reference

    device = jax.local_devices()[0]
    fn = reference.make_batch_loss(data.cmat, data.dmat, data.target_fc, duration_ms=duration_ms)
    ks = jnp.linspace(0.5, 3.0, batch, dtype=jnp.float32)
    t0 = time.perf_counter()
    jax.block_until_ready(fn(ks))  # first call compiles (brainstate's jit cannot be lowered ahead of time)
    first = time.perf_counter() - t0
    wall = _time_calls(lambda: fn(ks), repeats)
    peak = _peak_bytes(device)
    mem_how = "device peak" if peak is not None else "n/a on this backend"
    return _row(batch, max(0.0, first - wall), wall, duration_ms, peak, mem_how)


def bench_engine(data: Any, batch: int, duration_ms: float, repeats: int = 2, *, common_noise: bool = False,
                 stream: str = "block", unroll: int | None = None) -> dict[str, Any]:
    """Time ``engine.model.objective.Objective`` on ``batch`` values of k (one fixed-shape compiled call)."""
    from engine.config import FitConfig
    from engine.model.objective import Objective

    config = FitConfig(batch=batch, duration_ms=duration_ms, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05},
                       common_noise=common_noise)
    obj = Objective(data, config, stream=stream, unroll=unroll)  # type: ignore[arg-type]
    values = np.linspace(0.5, 3.0, batch, dtype=np.float32).reshape(-1, 1)
    compile_s = obj.compile()
    obj(values)  # warm-up (first execution)
    wall = _time_calls(lambda: obj(values).losses, repeats)
    # the executable's own needs: a device's peak would include earlier rows and the reference in this process
    per_device = _analysis_bytes(obj._compiled)  # noqa: SLF001 - same package; SPMD: one device's share
    mem = None if per_device is None else per_device * len(obj.devices)
    row = _row(batch, compile_s, wall, duration_ms, mem, "XLA memory analysis")
    row["layout"] = obj.description
    row["devices"] = len(obj.devices)
    row["device_peak_bytes"] = _peak_bytes(obj.devices[0])  # the process's high-water mark so far (GPU), or None
    return row


def run_bench(batches: tuple[int, ...] = DEFAULT_BATCHES, duration_ms: float = 6000.0, data: str | None = None, *,
              reference: bool = True, repeats: int = 2, common_noise: bool = False, unroll: int | None = None,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure reference and engine for each batch size; return a JSON-ready dict."""
    import jax

    from engine.data.dataset import load_dataset

    ds = load_dataset(data)
    dev = jax.local_devices()
    out: dict[str, Any] = {
        "device": f"{len(dev)}× {dev[0].platform} ({dev[0].device_kind})", "data": ds.name, "n_nodes": ds.n_nodes,
        "duration_ms": duration_ms, "n_steps": int(duration_ms // 0.1), "noise": "common" if common_noise else "per-candidate",
        "rows": []}
    for b in sorted(set(batches)):  # smallest first: a device's peak memory never falls within a process
        row: dict[str, Any] = {"batch": b}
        if progress:
            progress(f"batch {b}: engine…")
        row["engine"] = bench_engine(ds, b, duration_ms, repeats, common_noise=common_noise, unroll=unroll)
        if reference:
            if progress:
                progress(f"batch {b}: reference…")
            row["reference"] = bench_reference(ds, b, duration_ms, repeats)
            row["speedup"] = row["reference"]["wall_s"] / row["engine"]["wall_s"]
        out["rows"].append(row)
    return out


def _fmt_mem(v: float | None) -> str:
    return "–" if v is None else f"{v / 1e6:.2f} MB"


def print_table(result: dict[str, Any]) -> None:
    """Print the benchmark as a rich table."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{result['device']} · {result['data']} · {result['duration_ms']:g} ms "
                    f"({result['n_steps']} steps) · {result['noise']} noise")
    for col in ("batch", "code", "compile s", "wall s/call", "cand/s", "s/cand", "sim s / wall s", "mem/cand", "×ref"):
        t.add_column(col, justify="right")
    for row in result["rows"]:
        for code in ("reference", "engine"):
            r = row.get(code)
            if r is None:
                continue
            speed = f"{row['speedup']:.1f}×" if code == "engine" and "speedup" in row else ""
            t.add_row(str(row["batch"]), code, f"{r['compile_s']:.2f}", f"{r['wall_s']:.3f}", f"{r['candidates_per_s']:.2f}",
                      f"{r['s_per_candidate']:.4f}", f"{r['sim_s_per_wall_s']:.2f}", _fmt_mem(r["mem_per_candidate_bytes"]), speed)
    console = Console(width=None if sys.stdout.isatty() else 120)  # piped: don't squeeze the table to 80
    console.print(t)
    console.print("engine: " + "; ".join(dict.fromkeys(r["engine"]["layout"] for r in result["rows"])))
    console.print("memory: engine = " + ", ".join(sorted({r["engine"]["mem_source"] for r in result["rows"]}))
                    + "; reference = device peak where reported")


def _main(args: argparse.Namespace) -> int:
    """Run the ``bench`` subcommand."""
    if getattr(args, "cluster", None):
        from engine.bench.cluster import main_cluster

        return main_cluster(args)
    if args.cpu_devices:
        import jax

        try:
            jax.config.update("jax_num_cpu_devices", args.cpu_devices)
        except RuntimeError as exc:  # the backend is already initialised
            print(f"--cpu-devices ignored: {exc}")
    progress = None if args.json else (lambda m: print(m, flush=True))
    if getattr(args, "regional", False):
        from engine.bench import regional as bench_regional

        out = bench_regional.run(max(args.batch), args.duration, args.data, args.repeats, progress)
        print(json.dumps(out)) if args.json else bench_regional.print_table(out)
        return 0
    if args.observe:
        from engine.bench import observe as bench_observe

        out = bench_observe.run(args.batch, args.duration, args.data, args.repeats, progress)
        print(json.dumps(out)) if args.json else bench_observe.print_table(out)
        return 0
    res = run_bench(args.batch, args.duration, args.data, reference=args.reference, repeats=args.repeats,
                    common_noise=args.common_noise, unroll=args.unroll or None, progress=progress)
    if args.json:
        print(json.dumps(res))
    else:
        print_table(res)
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("bench", help="time the engine against the seed's code path on this device")
    p.add_argument("--batch", type=_parse_batches, default=DEFAULT_BATCHES, help="batch sizes, e.g. 1,4,16,64")
    p.add_argument("--duration", type=float, default=6000.0, help="simulated ms per candidate (default 6000)")
    p.add_argument("--data", default=None, help="dataset: bundled (default), a .msgpack/.npz path or kaggle:…")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                   help="also time the seed's code path (slow: minutes at 6 s on CPU)")
    p.add_argument("--repeats", type=int, default=2, help="timed calls after compilation (best is kept, ≥ 2; with --cluster, 1 = one timed call, no warm-up)")
    p.add_argument("--common-noise", action="store_true",
                   help="engine draws one noise stream for all candidates (the reference always uses one per lane)")
    p.add_argument("--unroll", type=_non_negative, default=0,
                   help="node-loop steps unrolled per loop trip (0 = the default, 1; the numbers may differ in the last bits)")
    p.add_argument("--cpu-devices", type=int, default=0,
                   help="split the host CPU into this many JAX devices (set before JAX starts; 0 = leave as is)")
    p.add_argument("--observe", default=None, choices=("bold",),
                   help="bold: compare raw rE, BOLD and BOLD + FCD per simulated second, and their memory "
                        "(e.g. --observe bold --duration 400000 --batch 8 --no-reference)")
    p.add_argument("--regional", action="store_true",
                   help="time homogeneous against regional parameters + FIC (each coupling) side by side, BOLD")
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="compare one process with a Ray cluster's actors instead (default batch 64)")
    p.add_argument("--cpu-actors", type=int, default=0, metavar="N",
                   help="with --cluster: actors per CPU-only host (default 2)")
    p.set_defaults(func=_main)
    return p


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m engine.bench.speed …``."""
    parser = argparse.ArgumentParser(prog="wcfit-tui")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["bench", *(argv or [])])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
