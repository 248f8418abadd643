"""Subcommands on run directories (and studies): ``runs``, ``resume`` and ``export``.

``register(subparsers)`` adds them to the CLI's parser; each command returns an exit code (a refusal raises a
RunError, which ``main`` reports as one line with exit code 2).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from engine.cluster.connection import import_ray
from engine.runner import RecordedFit
from engine.runs import DEFAULT_ROOT, RunInfo, export, list_runs, resolve_run
from engine.runs.listing import STATUS_STYLE
from engine.study.manifest import is_study
from engine.study.table import list_studies
from tui.cli import study
from tui.cli.errors import EXIT_FAILED, EXIT_OK
from tui.cli.options.cluster import add_cluster_options, objective_for
from tui.cli.options.fit import export_formats
from tui.cli.parser import Subparsers
from tui.cli.progress import print_summary, run_with_progress


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``runs``, ``resume`` and ``export`` subcommands."""
    ls = subparsers.add_parser("runs", help="list run directories with status, progress and best result")
    ls.add_argument("dir", nargs="?", default=None, metavar="DIR", help=f"root of run directories (default ./{DEFAULT_ROOT})")
    ls.add_argument("--json", action="store_true", help="print one JSON object per run instead of a table")
    ls.set_defaults(func=cmd_runs)

    resume = subparsers.add_parser("resume", help="continue a stopped, failed or crashed run from its checkpoint")
    resume.add_argument("run", metavar="RUN", help="run directory, or a run name under ./wcfit-runs")
    resume.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    add_cluster_options(resume)
    resume.set_defaults(func=cmd_resume)

    export = subparsers.add_parser("export", help="export a run: candidates CSV, summary JSON, FCs NPZ, best FC CSV")
    export.add_argument("run", metavar="RUN", help="run directory, or a run name under ./wcfit-runs")
    export.add_argument("--csv", dest="formats", action="append_const", const="csv", help="candidates as CSV")
    export.add_argument("--json", dest="formats", action="append_const", const="json", help="summary as JSON")
    export.add_argument("--npz", dest="formats", action="append_const", const="npz",
                        help="FCs as NPZ: target, model (best), difference, and the region labels when known")
    export.add_argument("--fc", dest="formats", action="append_const", const="fc",
                        help="the best model FC as CSV, with a header row and an index column of region labels")
    export.add_argument("--output", "-o", default=None, metavar="PATH",
                        help="output file (one format) or directory (default RUN/export/)")
    export.set_defaults(func=cmd_export)
    return (ls, resume, export)


def _fmt_time(t: float | None) -> str:
    return "—" if t is None else _dt.datetime.fromtimestamp(t).strftime("%m-%d %H:%M")


def _fmt_duration(s: float | None) -> str:
    if s is None:
        return "—"
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _fmt_params(params: Any) -> str:
    return ", ".join(f"{k}={float(v):.4g}" for k, v in dict(params or {}).items()) or "—"


def cmd_runs(args: argparse.Namespace) -> int:
    """``wcfit-tui runs [DIR]``: a table of the runs and studies in DIR (of a study's subjects when DIR is a study)."""
    if args.dir and is_study(args.dir):
        return study.cmd_subjects(args)
    runs = sorted(list_runs(args.dir) + list_studies(args.dir), key=lambda r: (r.started or 0.0, r.name))
    if args.json:
        for r in runs:
            print(json.dumps(_info_dict(r)))
        return EXIT_OK
    console = Console(width=None if sys.stdout.isatty() else 140)  # piped: keep every column
    if not runs:
        console.print(f"no runs in {args.dir or DEFAULT_ROOT}")
        return EXIT_OK
    table = Table(title=f"runs in {args.dir or DEFAULT_ROOT}")
    for col, kw in (("name", {"no_wrap": True}), ("status", {"min_width": 8}), ("evals", {"justify": "right"}),
                    ("best loss", {"justify": "right", "no_wrap": True}), ("best params", {}),
                    ("started", {"no_wrap": True}), ("duration", {"justify": "right"})):
        table.add_column(col, **kw)  # type: ignore[arg-type]
    for r in runs:
        table.add_row(r.name, f"[{STATUS_STYLE.get(r.status, '')}]{r.status}[/]", f"{r.evaluations}/{r.budget}",
                      "—" if r.best_loss is None else f"{r.best_loss:.5f}", _fmt_params(r.best_params),
                      _fmt_time(r.started),
                      (r.reason or "—") if r.status == "study" else _fmt_duration(r.duration_s))
    console.print(table)
    if any(r.status == "study" for r in runs):
        console.print("a study's subjects: wcfit-tui runs STUDY (or attach STUDY in the app)")
    return EXIT_OK


def _info_dict(r: RunInfo) -> dict[str, Any]:
    return {"name": r.name, "path": str(r.path), "status": r.status, "evaluations": r.evaluations,
            "budget": r.budget, "optimizer": r.optimizer, "best_loss": r.best_loss,
            "best_params": dict(r.best_params) if r.best_params else None, "started": r.started,
            "duration_s": r.duration_s, "reason": r.reason, "pid": r.pid}


def cmd_resume(args: argparse.Namespace) -> int:
    """``resume RUN``: continue from the checkpoint with the run's own settings; exit 1 if it fails."""
    if is_study(args.run):
        return study.cmd_resume_study(args)
    path = resolve_run(args.run)
    if args.cluster:
        import_ray()  # no Ray: the install hint before the run is touched
    fit = RecordedFit.resumed(path)
    try:
        fit.search.objective = objective_for(args, fit.config, fit.dataset)
    except BaseException:
        assert fit.recorder is not None
        fit.recorder.close()
        raise
    for note in fit.notes:
        print(f"wcfit-tui: {note}", file=sys.stderr)
    assert fit.resume is not None
    print(f"resuming {path} at evaluation {fit.resume.evaluations} of {fit.config.budget}", file=sys.stderr)
    summary = run_with_progress(fit, quiet=args.quiet)
    if summary is None:
        print("wcfit-tui: resume ended without a summary", file=sys.stderr)
        return EXIT_FAILED
    print_summary(summary, fit.dataset, args.json, path)
    if summary.status == "failed":
        print(f"wcfit-tui: resumed fit failed: {summary.reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """``export RUN --csv/--json/--npz/--fc [--output PATH]``: write the chosen exports, print their paths."""
    if is_study(args.run):
        return study.cmd_export_study(args)
    path = resolve_run(args.run)
    formats, out = export_formats(args, "--csv, --json, --npz and/or --fc")
    for fmt in formats:
        print(export(path, fmt, out))
    return EXIT_OK
