"""The ``study`` subcommand, and what ``runs``, ``resume`` and ``export`` do with a study directory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.cluster.connection import import_ray
from engine.data.dataset import load_dataset
from engine.study.export import export_study
from engine.study.manifest import create_study, is_study, subject_statuses
from engine.study.run import Study
from engine.study.subjects import PER, split_subjects
from tui.cli.errors import EXIT_FAILED, EXIT_OK
from tui.cli.options.fit import add_fit_options, config_from_args, export_formats
from tui.cli.parser import Subparsers
from tui.cli.progress import run_with_progress


def cmd_study(args: argparse.Namespace) -> int:
    """``wcfit-tui study … --out DIR``: create (or resume) a study and fit its remaining subjects."""
    out = Path(args.out).expanduser()
    if args.cluster:
        import_ray()
    if is_study(out):
        print(f"study {out} exists: resuming it with its stored settings", file=sys.stderr)
    else:
        config = config_from_args(args)
        dataset = load_dataset(config.data)
        subjects = split_subjects(dataset, args.per)
        if args.limit:
            subjects = subjects[:args.limit]
        create_study(out, config, dataset, subjects, args.per)
        print(f"study {out}: {len(subjects)} subject(s) of {dataset.name}", file=sys.stderr)
    return _run(out, args.cluster, getattr(args, "cpu_actors", None), getattr(args, "quiet", False))


def cmd_resume_study(args: argparse.Namespace) -> int:
    """``wcfit-tui resume STUDY``: resume every unfinished subject of a study."""
    if getattr(args, "cluster", None):
        import_ray()
    return _run(Path(args.run).expanduser(), args.cluster, getattr(args, "cpu_actors", None), args.quiet)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(path: Path, cluster: str | None, cpu_actors: int | None, quiet: bool) -> int:
    study = Study(path, say=_say, quiet=quiet, runner=lambda fit: run_with_progress(fit, quiet=quiet))
    outcomes = study.run_cluster(cluster, cpu_actors) if cluster else study.run_local()
    statuses = subject_statuses(path)
    done = sum(1 for s in statuses if s.status == "finished")
    print(f"study {path}: {done} of {len(statuses)} subject(s) finished")
    # a subject left unfinished because its actor died and none was left ("crashed") fails the command as a failed fit
    return EXIT_FAILED if any(v in ("failed", "crashed") for v in outcomes.values()) else EXIT_OK


def cmd_subjects(args: argparse.Namespace) -> int:
    """``wcfit-tui runs STUDY``: the study's subjects with status, progress and best result."""
    statuses = subject_statuses(args.dir)
    if args.json:
        for s in statuses:
            print(json.dumps({"subject": s.name, "scans": list(s.scans), "path": str(s.path), "status": s.status,
                              "evaluations": s.evaluations, "budget": s.budget, "best_loss": s.best_loss,
                              "best_params": s.best_params}))
        return EXIT_OK
    console = Console(width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"subjects of study {args.dir}")
    for col in ("subject", "scans", "status", "evals", "best loss", "best params"):
        table.add_column(col, justify="right" if col in ("evals", "best loss") else "left")
    for s in statuses:
        params = ", ".join(f"{k}={v:.4g}" for k, v in (s.best_params or {}).items()) or "—"
        table.add_row(s.name, " ".join(map(str, s.scans)), s.status, f"{s.evaluations}/{s.budget}",
                      "—" if s.best_loss is None else f"{s.best_loss:.5f}", params)
    console.print(table)
    return EXIT_OK


def cmd_export_study(args: argparse.Namespace) -> int:
    """``wcfit-tui export STUDY --csv|--json``: one row per subject."""
    formats, out = export_formats(args, "--csv and/or --json")
    for fmt in formats:
        print(export_study(args.run, fmt, out))
    return EXIT_OK


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``study`` subcommand."""
    p = subparsers.add_parser("study", help="fit every subject of a dataset: one run directory per subject")
    add_fit_options(p)
    p.add_argument("--per", choices=PER, default="scan",
                   help="one subject per scan (default), or scans grouped by the data's 'subjects' array")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N subjects")
    p.add_argument("--out", required=True, metavar="DIR", help="the study directory (created, or resumed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_study)
    return (p,)
