"""The command line: one parser for every subcommand, the ``fit`` and ``info`` commands, and ``main``.

With no subcommand ``main`` opens the app (``tui.cli.app``). Errors in the user's input end with one line on
stderr and exit code 2, never a traceback (the table is ``tui.cli.errors``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from engine.cluster.objective import cluster_info_lines
from engine.config import FitConfig
from engine.devices import info_lines, use_cpu_cores_as_devices
from engine.events import Summary
from engine.params import registry_help
from engine.prepare import prepare_fit
from engine.presets import preset_help
from engine.runner import RecordedFit
from tui.cli import app, bench, data, reports, runs, serve, simulate, study
from tui.cli.cluster import objective_for
from tui.cli.errors import BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError, report
from tui.cli.map_control import add_map_control_options, parse_control, run_controls
from tui.cli.options import add_fit_options, config_from_args, fcd_window_given
from tui.cli.progress import print_summary, run_with_progress

__all__ = ["add_fit_options", "build_parser", "config_from_args", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser: the app's own option and every subcommand."""
    parser = _Parser(prog="wcfit-tui", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Fit a whole-brain Wilson–Cowan network to empirical FC.\n"
                                 "With no subcommand the terminal app opens on the bundled HCP data.",
                     epilog="Fit parameters (--param/--fixed):\n" + registry_help() + "\n\nPresets (--preset):\n"
                            + preset_help() + "\n\n" + app.KEYS)
    app.add_app_options(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    fit = sub.add_parser("fit", help="run a fit headless: progress on stderr, summary on stdout",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="Parameters:\n" + registry_help() + "\n\nPresets (--preset):\n" + preset_help())
    add_fit_options(fit)
    add_map_control_options(fit)
    fit.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    fit.add_argument("--out", default=None, metavar="DIR", help="root of run directories (default ./wcfit-runs)")
    fit.add_argument("--name", default=None, help="run directory name (default: time and optimizer)")
    fit.add_argument("--no-record", action="store_true", help="do not write a run directory")
    fit.set_defaults(func=cmd_fit)
    info = sub.add_parser("info", help="print JAX backend, devices and memory")
    info.add_argument("--cluster", default=None, metavar="ADDRESS", help="list a Ray cluster's actors instead")
    info.set_defaults(func=cmd_info)
    for module in (bench, runs, reports, simulate, data, study, serve, app):
        module.register(sub)
    return parser


def cmd_info(args: argparse.Namespace) -> int:
    """``wcfit-tui info``: backend, devices, memory, GPUs, compilation cache."""
    print("\n".join(cluster_info_lines(args.cluster) if args.cluster else info_lines()))
    return EXIT_OK


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


_QUIETED = False


def quiet_library_noise() -> None:
    """Silence Nevergrad's recast optimizers' broken ``__del__`` (an ignored AttributeError printed as a traceback).

    Installed once per process, however often ``main`` runs.
    """
    global _QUIETED
    if _QUIETED:
        return
    _QUIETED = True
    previous = sys.unraisablehook

    def hook(u: "sys.UnraisableHookArgs") -> None:
        if getattr(u.object, "__qualname__", "").endswith("__del__") and isinstance(u.exc_value, AttributeError) \
                and "nevergrad" in getattr(u.object, "__module__", ""):
            return
        previous(u)

    sys.unraisablehook = hook


#: Subcommands that start JAX: before it starts, batches are sharded over every CPU core.
_JAX_COMMANDS = (None, "fit", "resume", "info", "study", "attach")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and run a subcommand (the app without one); bad input → one line on stderr and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_library_noise()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command in _JAX_COMMANDS:
            use_cpu_cores_as_devices()
        if not getattr(args, "func", None):
            return app.open_app(args.data)
        return int(args.func(args))
    except BAD_INPUT as e:
        return report(e)


if __name__ == "__main__":
    sys.exit(main())
