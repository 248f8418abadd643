"""``wcfit-tui fit``: a headless fit, prepared by the engine, with a progress bar on stderr and the summary on stdout."""

from __future__ import annotations

import argparse
import sys

from engine.config import FitConfig
from engine.events import Summary
from engine.params import registry_help
from engine.prepare import prepare_fit
from engine.presets import preset_help
from engine.runner import RecordedFit
from tui.cli.errors import EXIT_FAILED, EXIT_OK
from tui.cli.options.cluster import objective_for
from tui.cli.options.fit import add_fit_options, config_from_args, fcd_window_given
from tui.cli.options.map_control import add_map_control_options, parse_control, run_controls
from tui.cli.parser import Subparsers
from tui.cli.progress import print_summary, run_with_progress


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``fit`` subcommand."""
    fit = subparsers.add_parser("fit", help="run a fit headless: progress on stderr, summary on stdout",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Parameters:\n" + registry_help() + "\n\nPresets (--preset):\n" + preset_help())
    add_fit_options(fit)
    add_map_control_options(fit)
    fit.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    fit.add_argument("--out", default=None, metavar="DIR", help="root of run directories (default ./wcfit-runs)")
    fit.add_argument("--name", default=None, help="run directory name (default: time and optimizer)")
    fit.add_argument("--no-record", action="store_true", help="do not write a run directory")
    fit.set_defaults(func=cmd_fit)
    return (fit,)


def cmd_fit(args: argparse.Namespace) -> int:
    """``wcfit-tui fit``: a headless fit; exit 0 when it finished, 1 when it failed, 2 on bad input."""
    prepared = prepare_fit(config_from_args(args), fcd_window_given=fcd_window_given(args))  # bad input: exit 2
    map_control = parse_control(args, prepared.config)  # --map-control permute: checked before the fit starts
    cluster = objective_for(args, prepared.config, prepared.dataset)  # a cluster's actors when --cluster
    try:
        fit = RecordedFit.prepared(prepared, record_run=not args.no_record, out=args.out, name=args.name,
                                   objective=cluster)
    except BaseException:  # e.g. the run directory cannot be written: the actors go
        if cluster is not None:
            cluster.close()
        raise
    summary = run_with_progress(fit)
    assert summary is not None
    control = None
    if map_control is not None and summary.status == "finished":
        def run_one(cfg: FitConfig, suffix: str) -> Summary | None:
            name = f"{fit.path.name}-{suffix}" if fit.path is not None else None
            return run_with_progress(RecordedFit.prepared(prepare_fit(cfg, dataset=prepared.dataset,
                                                                      test_dataset=prepared.test_dataset,
                                                                      fcd_window_given=True),
                                                          record_run=not args.no_record, out=args.out, name=name))
        control = run_controls(prepared.config, map_control, summary, run_one)
    print_summary(summary, prepared.dataset, args.json, fit.path, control)
    if summary.status == "failed":
        print(f"wcfit-tui: fit failed: {summary.reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
