"""The headless command line: ``fit``, ``info``, ``bench``, ``runs``, ``resume``, ``export``.

Errors in the user's input end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from engine.config import BUNDLED, OPTIMIZERS, ConfigError, FitConfig, parse_bound, parse_fixed
from engine.data import DataError
from engine.params import registry_help

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def add_fit_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``fit`` and the TUI: data, parameters, optimizer and simulation settings."""
    p.add_argument("--data", default=BUNDLED, metavar="PATH|kaggle:OWNER/DATASET[/FILE]",
                   help="dataset: .msgpack or .npz with Cmat, Dmat and BOLDs (or FC); default: bundled HCP (80 regions)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=LO:HI",
                   help="fit a parameter within bounds (repeatable); default k=0.5:3")
    p.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a parameter (repeatable); default sigma=0.05")
    p.add_argument("--optimizer", default="DE", metavar="NAME",
                   help=f"{', '.join(OPTIMIZERS)} or any Nevergrad optimizer name (default DE)")
    p.add_argument("--batch", type=int, default=4, help="candidates per device call (default 4)")
    p.add_argument("--budget", type=int, default=40, help="evaluations in all (default 40)")
    p.add_argument("--duration", type=float, default=6000.0, metavar="MS", help="simulated ms per candidate (default 6000)")
    p.add_argument("--dt", type=float, default=0.1, metavar="MS", help="integration step in ms (default 0.1)")
    p.add_argument("--transient", type=float, default=0.0, metavar="MS", help="ms discarded before FC (default 0)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--own-noise", action="store_true",
                   help="give each candidate its own noise, as the seed did (default: common random numbers)")


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """Build the FitConfig that the fit options describe (raises ConfigError)."""
    bounds = dict(parse_bound(t) for t in args.param) or {"k": (0.5, 3.0)}
    fixed = {"sigma": 0.05}
    fixed.update(dict(parse_fixed(t) for t in args.fixed))
    for name in bounds:
        if name in fixed and not any(t.partition("=")[0].strip() == name for t in args.fixed):
            del fixed[name]  # fitting a parameter overrides its default fixed value
    return FitConfig(data=args.data, bounds=bounds, fixed=fixed, optimizer=args.optimizer, batch=args.batch,
                     budget=args.budget, duration_ms=args.duration, dt_ms=args.dt, transient_ms=args.transient,
                     seed=args.seed, common_noise=not args.own_noise)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = _Parser(prog="wcfit-tui", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Fit a whole-brain Wilson–Cowan network to empirical FC.\n"
                                 "With no subcommand the terminal app opens on the bundled HCP data.",
                     epilog="Fit parameters (--param/--fixed):\n" + registry_help())
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    fit = sub.add_parser("fit", help="run a fit headless: progress on stderr, summary on stdout",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="Parameters:\n" + registry_help())
    add_fit_options(fit)
    fit.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    fit.add_argument("--out", default=None, metavar="DIR", help="root of run directories (default ./wcfit-runs)")
    fit.add_argument("--name", default=None, help="run directory name (default: time and optimizer)")
    fit.add_argument("--no-record", action="store_true", help="do not write a run directory")
    fit.set_defaults(func=cmd_fit)
    info = sub.add_parser("info", help="print JAX backend, devices and memory")
    info.set_defaults(func=cmd_info)
    for module in ("engine.bench", "engine.runs_cli", "engine.serve_cli"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        mod.register(sub)
    return parser


def cmd_info(args: argparse.Namespace) -> int:
    """``wcfit-tui info``: backend, devices, memory, GPUs, compilation cache."""
    from engine.devices import info_lines

    print("\n".join(info_lines()))
    return EXIT_OK


def _print_summary(summary: object, dataset: object, as_json: bool, run_path: object) -> None:
    from engine.events import Summary

    assert isinstance(summary, Summary)
    if as_json:
        d = summary.to_dict()
        d["dataset"] = getattr(dataset, "name", None)
        d["run_dir"] = str(run_path) if run_path else None
        print(json.dumps(d))
        return
    params = ", ".join(f"{k} = {v:.6g}" for k, v in (summary.best_params or {}).items()) or "—"
    rec = ", ".join(f"{k} = {v:.6g}" for k, v in (summary.recommendation or {}).items()) or "—"
    lines = [
        f"status          {summary.status} ({summary.reason})",
        f"best            {params}",
        f"loss            {summary.best_loss:.6f}" if summary.best_loss is not None else "loss            —",
        f"FC correlation  {summary.best_corr:.6f}" if summary.best_corr is not None else "FC correlation  —",
        f"recommendation  {rec}" + (f"  (loss {summary.recommendation_loss:.6f})" if summary.recommendation_loss is not None else ""),
        f"evaluations     {summary.evaluations}" + (f" ({summary.nan_candidates} diverged)" if summary.nan_candidates else ""),
        f"wall time       {summary.wall_s:.1f} s",
        f"device          {summary.device}",
        f"dataset         {getattr(dataset, 'name', '?')} (N = {getattr(dataset, 'n_nodes', '?')})",
    ]
    if run_path:
        lines.append(f"run directory   {run_path}")
    lines += [f"warning         {w}" for w in summary.warnings]
    print("\n".join(lines))


def run_fit(config: FitConfig, dataset: object, *, listeners: list, checkpointer: object = None,
            resume: object = None, quiet: bool = False) -> object:
    """Run a search in this thread with a rich progress bar on stderr; Ctrl-C stops it cleanly."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.events import BatchEvaluated, Compiling, Warned
    from engine.search import Search, budget_of, start

    console = Console(stderr=True)
    total = budget_of(config)
    done = getattr(resume, "evaluations", 0)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console,
                  disable=quiet, transient=False) as bar:
        task = bar.add_task("fit", total=total, completed=done, status="starting")

        def show(event: object) -> None:
            if isinstance(event, Compiling):
                bar.update(task, status=f"compiling batch of {event.batch}…")
            elif isinstance(event, BatchEvaluated):
                bar.update(task, completed=event.evaluations,
                           status=f"best loss {event.best_loss:.4f} · {event.candidates_per_s:.2f} cand/s")
            elif isinstance(event, Warned):
                bar.console.print(f"[yellow]warning:[/] {event.message}")

        search = Search(config, dataset, listeners=[show, *listeners], checkpointer=checkpointer, resume=resume)  # type: ignore[arg-type]
        thread = start(search)
        try:
            while thread.is_alive():
                thread.join(0.2)
        except KeyboardInterrupt:
            console.print("stopping after the current batch…")
            search.cancel()
            thread.join()
    return search.summary


def cmd_fit(args: argparse.Namespace) -> int:
    """``wcfit-tui fit``: a headless fit; exit 0 when it finished, 1 when it failed, 2 on bad input."""
    from engine.data import load_dataset
    from engine.devices import enable_compilation_cache

    config = config_from_args(args)
    dataset = load_dataset(config.data)
    if dataset.n_nodes < 2:
        raise DataError("need at least 2 regions")
    enable_compilation_cache()
    recorder = None
    listeners: list = []
    if not args.no_record:
        from engine import runs

        recorder = runs.record(config, dataset, out=args.out, name=args.name)
        listeners.append(recorder.listener)
    try:
        summary = run_fit(config, dataset, listeners=listeners,
                          checkpointer=recorder.checkpointer if recorder else None)
    finally:
        if recorder is not None:
            recorder.close()
    _print_summary(summary, dataset, args.json, recorder.path if recorder else None)
    status = getattr(summary, "status", "failed")
    if status == "failed":
        print(f"wcfit-tui: fit failed: {getattr(summary, 'reason', '?')}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def quiet_library_noise() -> None:
    """Silence Nevergrad's recast optimizers' broken ``__del__`` (an ignored AttributeError printed as a traceback)."""
    previous = sys.unraisablehook

    def hook(u: "sys.UnraisableHookArgs") -> None:
        if getattr(u.object, "__qualname__", "").endswith("__del__") and isinstance(u.exc_value, AttributeError) \
                and "nevergrad" in getattr(u.object, "__module__", ""):
            return
        previous(u)

    sys.unraisablehook = hook


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and run a subcommand; bad input → one line on stderr and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_library_noise()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_OK
        if args.command in ("fit", "resume", "info"):
            from engine.devices import use_cpu_cores_as_devices

            use_cpu_cores_as_devices()  # before JAX starts: shard batches over every CPU core
        return int(args.func(args))
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ConfigError, DataError) as e:
        print(f"wcfit-tui: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"wcfit-tui: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:  # noqa: BLE001 - run-directory errors (lock held, unwritable) are the user's to fix
        from engine.runs import RunError

        if not isinstance(e, RunError):
            raise
        print(f"wcfit-tui: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
