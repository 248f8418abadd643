"""The ``bench`` subcommand: candidates per second of the engine against the seed's code path, observation costs,
and one process against a Ray cluster, printed as tables (or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from engine.bench import observe as bench_observe
from engine.bench import regional as bench_regional
from engine.bench.cluster import run_cluster_bench
from engine.bench.speed import DEFAULT_BATCHES, run_bench
from engine.cluster.connection import import_ray
from engine.devices import use_cpu_cores_as_devices
from tui.cli import bench_presets
from tui.cli.parser import Subparsers

#: Simulated ms per candidate of the plain, --observe, --regional and --cluster benches.
DEFAULT_DURATION_MS = 6000.0


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


def _fmt_mem(v: float | None) -> str:
    return "–" if v is None else f"{v / 1e6:.2f} MB"


def print_table(result: dict[str, Any]) -> None:
    """Print the benchmark as a rich table."""
    t = Table(title=f"{result['device']} · {result['data']} · {result['duration_ms']:g} ms "
                    f"({result['n_steps']} steps) · {result['noise']} noise")
    for col in ("batch", "code", "compile s", "wall s/call", "cand/s", "s/cand", "sim s / wall s", "mem/cand", "×ref"):
        t.add_column(col, justify="right")
    for row in result["rows"]:
        for code in ("reference", "engine", "engine_realizations"):
            r = row.get(code)
            if r is None:
                continue
            speed = f"{row['speedup']:.1f}×" if code == "engine" and "speedup" in row else ""
            if code == "engine_realizations":
                code = f"engine ×{result.get('realizations')} real."
                speed = f"cost {row['realization_cost']:.2f}×"
            t.add_row(str(row["batch"]), code, f"{r['compile_s']:.2f}", f"{r['wall_s']:.3f}", f"{r['candidates_per_s']:.2f}",
                      f"{r['s_per_candidate']:.4f}", f"{r['sim_s_per_wall_s']:.2f}", _fmt_mem(r["mem_per_candidate_bytes"]), speed)
    console = Console(width=None if sys.stdout.isatty() else 120)  # piped: don't squeeze the table to 80
    console.print(t)
    console.print("engine: " + "; ".join(dict.fromkeys(r["engine"]["layout"] for r in result["rows"])))
    console.print("memory: engine = " + ", ".join(sorted({r["engine"]["mem_source"] for r in result["rows"]}))
                    + "; reference = device peak where reported")


def _main(args: argparse.Namespace) -> int:
    """Run the ``bench`` subcommand."""
    if args.duration is None and not args.presets:  # --presets has its own default (60 s, as a fit's candidates)
        args.duration = DEFAULT_DURATION_MS
    if getattr(args, "cluster", None):
        return main_cluster(args)
    if args.cpu_devices:
        import jax

        try:
            jax.config.update("jax_num_cpu_devices", args.cpu_devices)
        except RuntimeError as exc:  # the backend is already initialised
            print(f"--cpu-devices ignored: {exc}")
    progress = None if args.json else (lambda m: print(m, flush=True))
    if args.presets:
        if not args.cpu_devices:
            use_cpu_cores_as_devices()  # as `fit` runs the presets: every core a device (before JAX starts)
        return bench_presets.main(args, progress)
    if args.regional:
        out = bench_regional.run(max(args.batch), args.duration, args.data, args.repeats, progress)
        print(json.dumps(out)) if args.json else print_regional_table(out)
        return 0
    if args.observe:
        out = bench_observe.run(args.batch, args.duration, args.data, args.repeats, progress)
        print(json.dumps(out)) if args.json else print_observe_table(out)
        return 0
    res = run_bench(args.batch, args.duration, args.data, reference=args.reference, repeats=args.repeats,
                    common_noise=args.common_noise, unroll=args.unroll or None, progress=progress,
                    realizations=args.realizations)
    if args.json:
        print(json.dumps(res))
    else:
        print_table(res)
    return 0


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``bench`` subcommand."""
    p = subparsers.add_parser("bench", help="time the engine against the seed's code path on this device")
    p.add_argument("--batch", type=_parse_batches, default=DEFAULT_BATCHES, help="batch sizes, e.g. 1,4,16,64")
    p.add_argument("--duration", type=float, default=None,
                   help="simulated ms per candidate (default 6000; with --presets 60000)")
    p.add_argument("--data", default=None, help="dataset: bundled (default), a .msgpack/.npz path or kaggle:…")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                   help="also time the seed's code path (slow: minutes at 6 s on CPU)")
    p.add_argument("--repeats", type=int, default=2, help="timed calls after compilation (best is kept, ≥ 2; with --cluster, 1 = one timed call, no warm-up)")
    p.add_argument("--common-noise", action="store_true",
                   help="engine draws one noise stream for all candidates (the reference always uses one per lane)")
    p.add_argument("--realizations", type=int, default=1, metavar="R",
                   help="also time each batch scored over R noise realisations (mean FC), beside one realisation")
    p.add_argument("--unroll", type=_non_negative, default=0,
                   help="node-loop steps unrolled per loop trip (0 = the default, 1; the numbers may differ in the last bits)")
    p.add_argument("--cpu-devices", type=int, default=0,
                   help="split the host CPU into this many JAX devices (set before JAX starts; 0 = leave as is)")
    p.add_argument("--observe", default=None, choices=("bold",),
                   help="bold: compare raw rE, BOLD and BOLD + FCD per simulated second, and their memory "
                        "(e.g. --observe bold --duration 400000 --batch 8 --no-reference)")
    p.add_argument("--presets", action="store_true",
                   help="the presets as fits run them (bold on the bundled hcp80, regional on schaefer100), side by side: "
                        "candidate-simulated-seconds per wall second, the share of the CPU's estimated peak, and "
                        "neurolib's Wilson–Cowan with BOLD where installed (batch 16, 60 s)")
    p.add_argument("--dt", type=float, default=None, metavar="MS",
                   help="with --presets: a coarser integration step than the presets' 0.1 ms (an approximation: "
                        "scripts/dt_error.py measures its error on FC)")
    p.add_argument("--no-neurolib", dest="neurolib", action="store_false",
                   help="with --presets: leave neurolib out even where it is installed")
    p.add_argument("--regional", action="store_true",
                   help="time homogeneous against regional parameters + FIC (each coupling) side by side, BOLD")
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="compare one process with a Ray cluster's actors instead (default batch 64)")
    p.add_argument("--cpu-actors", type=int, default=0, metavar="N",
                   help="with --cluster: actors per CPU-only host (default 2)")
    p.set_defaults(func=_main)
    return (p,)




def print_cluster_table(result: dict[str, Any]) -> None:
    """Print the comparison as a rich table."""
    t = Table(title=f"one process vs Ray cluster {result['address']} · {result['data']} · "
                    f"{result['duration_ms']:g} ms simulated per candidate")
    for col in ("batch", "where", "compile s", "wall s/batch", "cand/s", "×", "overhead ms", "overhead %"):
        t.add_column(col, justify="right")
    for row in result["rows"]:
        one, cl = row["one_process"], row["cluster"]
        t.add_row(str(row["batch"]), "one process", f"{one['compile_s']:.2f}", f"{one['wall_s']:.3f}",
                  f"{one['candidates_per_s']:.2f}", "1.0", "", "")
        t.add_row(str(row["batch"]), f"{cl['actors']} actors", f"{cl['compile_s']:.2f}", f"{cl['wall_s']:.3f}",
                  f"{cl['candidates_per_s']:.2f}", f"{row['speedup']:.2f}", f"{1000 * cl['overhead_s']:.1f}",
                  f"{cl['overhead_pct']:.2f}")
    console = Console(width=None if sys.stdout.isatty() else 120)
    console.print(t)
    for row in result["rows"]:
        console.print(f"batch {row['batch']}: one process = {row['one_process']['layout']}; cluster = "
                      f"{row['cluster']['layout']}, shares {row['cluster']['shares']}; "
                      f"largest loss difference {row['max_loss_difference']:.1e}")


def main_cluster(args: Any) -> int:
    """``bench --cluster``: run and print (or ``--json``)."""
    import_ray()
    use_cpu_cores_as_devices()  # the one-process side uses every local core, as `fit` does (JAX is imported, not started)
    batches = (64,) if tuple(args.batch) == DEFAULT_BATCHES else tuple(args.batch)
    res = run_cluster_bench(args.cluster, batches, args.duration, args.data, repeats=args.repeats,
                            cpu_actors=args.cpu_actors or 2,
                            progress=None if args.json else (lambda m: print(m, flush=True)))
    if args.json:
        print(json.dumps(res))
    else:
        print_cluster_table(res)
    return 0


def print_observe_table(result: dict[str, Any]) -> None:
    """Print the observation benchmark as a rich table."""

    mb = lambda v: "–" if v is None else f"{v / 1e6:.2f} MB"  # noqa: E731
    t = Table(title=f"{result['device']} · {result['data']} · {result['duration_ms'] / 1000:g} s simulated per candidate")
    for col in ("batch", "observe · objective", "compile s", "wall s", "s / sim s / cand", "vs rE", "mem/cand",
                "at 60 s", "at 600 s", "samples"):
        t.add_column(col, justify="right")
    for r in result["rows"]:
        t.add_row(str(r["batch"]), f"{r['observe']} · {r['objective']}", f"{r['compile_s']:.1f}", f"{r['wall_s']:.2f}",
                  f"{r['s_per_sim_s_per_candidate']:.4f}", f"{100 * r['vs_rE']:+.1f} %", mb(r["mem_per_candidate"]),
                  mb(r["mem_per_candidate_60s"]), mb(r["mem_per_candidate_600s"]), str(r["samples"]))
    Console(width=None if sys.stdout.isatty() else 140).print(t)


def print_regional_table(result: dict[str, Any]) -> None:
    """The comparison as a table."""
    t = Table(title=f"regional parameters and FIC: {result['dataset']} (N = {result['n_nodes']}), "
                    f"{result['duration_ms'] / 1000:g} s simulated")
    for c in ("model", "batch", "wall s", "init s", "s / sim s / cand.", "× homogeneous", "× after init"):
        t.add_column(c, justify="left" if c == "model" else "right")
    for r in result["rows"]:
        t.add_row(r["model"], str(r["batch"]), f"{r['wall_s']:.2f}", f"{r['init_s']:.2f}",
                  f"{r['s_per_sim_s_per_candidate']:.4f}", f"{r['relative']:.3f}", f"{r['relative_after_init']:.3f}")
    Console().print(t)
