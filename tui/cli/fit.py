"""The headless command line: ``fit``, ``info``, ``bench``, ``runs``, ``resume``, ``export``.

Errors in the user's input end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from engine.config import BUNDLED, INITIAL_STATES, OPTIMIZERS, ConfigError, FitConfig, parse_bound, parse_fixed
from engine.data.dataset import DataError
from engine.params import registry_help

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def add_fit_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``fit``, ``simulate`` and the TUI: preset, data, parameters, search and simulation settings.

    Options left out take the preset's value (``--preset``, default ``bold``); given ones override it.
    """
    from engine import presets
    from engine.model import observe
    from engine.model import terms

    p.add_argument("--preset", default=None, metavar="NAME",
                   help=f"starting settings: {', '.join(presets.REGISTRY)} (default {presets.DEFAULT}); options override")
    p.add_argument("--data", default=BUNDLED, metavar="PATH|kaggle:OWNER/DATASET[/FILE]",
                   help="dataset: .msgpack/.npz/.mat file, a folder or .zip of tables, or kaggle:…; default: bundled HCP (80 regions)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=LO:HI",
                   help="fit a parameter within bounds (repeatable; replaces the preset's fitted parameters)")
    p.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a parameter (repeatable); the preset fixes sigma=0.05")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"{', '.join(OPTIMIZERS)} or any Nevergrad optimizer name (preset: DE)")
    p.add_argument("--batch", type=int, default=None, help="candidates per device call")
    p.add_argument("--budget", type=int, default=None, help="evaluations in all")
    p.add_argument("--duration", type=float, default=None, metavar="MS", help="simulated ms per candidate")
    p.add_argument("--dt", type=float, default=None, metavar="MS", help="integration step in ms (default 0.1)")
    p.add_argument("--transient", type=float, default=None, metavar="MS", help="ms discarded before FC")
    p.add_argument("--observe", default=None, metavar="NAME",
                   help=f"what is compared with the data: {', '.join(observe.NAMES)}")
    p.add_argument("--tr", type=float, default=None, metavar="S",
                   help="sampling interval of BOLD in seconds (default: the dataset's TR)")
    p.add_argument("--objective", default=None, metavar="TERMS",
                   help=f"objective terms with weights, e.g. fc or fc+0.5*fcd_ks; terms: {', '.join(terms.NAMES)}")
    p.add_argument("--fcd-window", type=float, default=None, metavar="S", help="FCD sliding window in seconds (30)")
    p.add_argument("--fcd-step", type=float, default=None, metavar="S", help="FCD window step in seconds (3)")
    p.add_argument("--bandpass", default=None, metavar="LOW:HIGH",
                   help="band-pass simulated and empirical BOLD (Hz, e.g. 0.01:0.1) before FC and FCD; default off")
    p.add_argument("--initial", default=None, choices=INITIAL_STATES,
                   help="random: the tutorial's random delay history; steady: each node at its fixed point")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--own-noise", action="store_true",
                   help="give each candidate its own noise, as the seed did (default: common random numbers)")
    from tui.cli.cluster import add_cluster_options
    from tui.cli.regional import add_regional_options

    add_cluster_options(p)
    add_regional_options(p)


def _parse_band(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise ConfigError(f"--bandpass expects LOW:HIGH in Hz (e.g. 0.01:0.1), got {text!r}") from None


#: FitConfig fields set by options of the same meaning (option attribute → field).
_OPTION_FIELDS = {"optimizer": "optimizer", "batch": "batch", "budget": "budget", "duration": "duration_ms",
                  "dt": "dt_ms", "transient": "transient_ms", "observe": "observe", "tr": "tr_s",
                  "objective": "objective", "fcd_window": "fcd_window_s", "fcd_step": "fcd_step_s",
                  "initial": "initial", "seed": "seed"}


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """Build the FitConfig that the fit options describe: the preset, overridden by the options given (ConfigError)."""
    from engine import presets

    preset = presets.get(args.preset or presets.DEFAULT)
    settings = dict(preset.settings)
    for option, name in _OPTION_FIELDS.items():
        value = getattr(args, option, None)
        if value is not None:
            settings[name] = value
    if args.param:
        settings["bounds"] = dict(parse_bound(t) for t in args.param)
    bounds = settings.get("bounds", {})
    fixed = dict(settings.get("fixed", {}))
    fixed.update(dict(parse_fixed(t) for t in args.fixed))
    for name in bounds:
        if name in fixed and not any(t.partition("=")[0].strip() == name for t in args.fixed):
            del fixed[name]  # fitting a parameter overrides its default fixed value
    settings["fixed"] = fixed
    if getattr(args, "bandpass", None):
        settings["bandpass_hz"] = _parse_band(args.bandpass)
    if args.own_noise:
        settings["common_noise"] = False
    from tui.cli.regional import regional_kwargs

    settings.update(regional_kwargs(args, settings))
    return preset.config(data=args.data, **{k: v for k, v in settings.items() if k != "preset"})


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = _Parser(prog="wcfit-tui", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Fit a whole-brain Wilson–Cowan network to empirical FC.\n"
                                 "With no subcommand the terminal app opens on the bundled HCP data.",
                     epilog="Fit parameters (--param/--fixed):\n" + registry_help() + "\n\nPresets (--preset):\n"
                            + _preset_help())
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    fit = sub.add_parser("fit", help="run a fit headless: progress on stderr, summary on stdout",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="Parameters:\n" + registry_help() + "\n\nPresets (--preset):\n" + _preset_help())
    add_fit_options(fit)
    fit.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    fit.add_argument("--out", default=None, metavar="DIR", help="root of run directories (default ./wcfit-runs)")
    fit.add_argument("--name", default=None, help="run directory name (default: time and optimizer)")
    fit.add_argument("--no-record", action="store_true", help="do not write a run directory")
    fit.set_defaults(func=cmd_fit)
    info = sub.add_parser("info", help="print JAX backend, devices and memory")
    info.add_argument("--cluster", default=None, metavar="ADDRESS", help="list a Ray cluster's actors instead")
    info.set_defaults(func=cmd_info)
    for module in ("engine.bench.speed", "tui.cli.runs", "engine.model.simulate", "tui.cli.data", "engine.study.run",
                   "tui.cli.serve"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        mod.register(sub)
    return parser


def _preset_help() -> str:
    from engine.presets import preset_help

    return preset_help()


def cmd_info(args: argparse.Namespace) -> int:
    """``wcfit-tui info``: backend, devices, memory, GPUs, compilation cache."""
    from engine.devices import info_lines

    if getattr(args, "cluster", None):
        from engine.cluster.objective import cluster_info_lines

        print("\n".join(cluster_info_lines(args.cluster)))
        return EXIT_OK
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
        *(["terms           " + ", ".join(f"{k} {v:.6f}" for k, v in summary.best_terms.items())]
          if summary.best_terms and len(summary.best_terms) > 1 else []),
        *([f"structure alone {summary.structural_baseline:.6f}  (corr of Cmat with the target FC)"]
          if summary.structural_baseline is not None else []),
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
            resume: object = None, quiet: bool = False, objective: object = None) -> object:
    """Run a search in this thread with a rich progress bar on stderr; Ctrl-C stops it cleanly."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    import threading

    from engine.events import BatchEvaluated, Compiling, Ended, SegmentSimulated, Warned
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
            elif isinstance(event, SegmentSimulated):
                part = event.batch_size * event.simulated_ms / event.duration_ms
                bar.update(task, completed=event.evaluations_done + part,
                           status=f"batch {event.batch_index + 1}: {event.simulated_ms / 1000:.0f} / "
                                  f"{event.duration_ms / 1000:.0f} s simulated")
            elif isinstance(event, BatchEvaluated):
                bar.update(task, completed=event.evaluations,
                           status=f"best loss {event.best_loss:.4f} · {event.candidates_per_s:.2f} cand/s")
            elif isinstance(event, Warned):
                bar.console.print(f"[yellow]warning:[/] {event.message}")

        ended = threading.Event()  # set after every listener (the recorder too) has seen the terminal event
        search = Search(config, dataset, listeners=[show, *listeners, lambda e: isinstance(e, Ended) and ended.set()],
                        checkpointer=checkpointer, resume=resume, objective=objective)  # type: ignore[arg-type]
        if objective is not None and hasattr(objective, "on_warning"):  # e.g. a cluster actor died mid-batch
            objective.on_warning = lambda message: [f(Warned(message=message)) for f in search.listeners]  # type: ignore[attr-defined]
        thread = start(search)
        # wait on the event, not in thread.join(timeout): on Python 3.11 a Ctrl-C inside join() marks the still running
        # thread as stopped (bpo-45274's handler), so the fit returned without its summary (exit 1, a traceback)
        try:
            while not ended.wait(0.2) and thread.is_alive():
                pass
        except KeyboardInterrupt:
            console.print("stopping after the current batch…")
            search.cancel()
            while not ended.wait(0.2) and thread.is_alive():
                pass
        thread.join()
    return search.summary


def make_objective(config: FitConfig, dataset: object) -> object:
    """The batch objective for a fit (not compiled yet); settings that do not suit the data raise ConfigError."""
    from engine.model.objective import Objective

    return Objective(dataset, config)  # type: ignore[arg-type]


def cmd_fit(args: argparse.Namespace) -> int:
    """``wcfit-tui fit``: a headless fit; exit 0 when it finished, 1 when it failed, 2 on bad input."""
    from engine.data.dataset import load_dataset
    from engine.devices import enable_compilation_cache

    config = config_from_args(args)
    dataset = load_dataset(config.data)
    if dataset.n_nodes < 2:
        raise DataError("need at least 2 regions")
    enable_compilation_cache()
    from tui.cli.cluster import objective_for

    local = make_objective(config, dataset)  # checks what needs the data (TR, samples, FCD windows): exit 2
    objective = objective_for(args, config, dataset) or local  # a cluster's actors when --cluster
    recorder = None
    listeners: list = []
    if not args.no_record:
        from engine import runs

        recorder = runs.record(config, dataset, out=args.out, name=args.name)
        listeners.append(recorder.listener)
    try:
        summary = run_fit(config, dataset, listeners=listeners,
                          checkpointer=recorder.checkpointer if recorder else None, objective=objective)
    finally:
        if recorder is not None:
            recorder.close()
        if hasattr(objective, "close"):  # a cluster's actors
            objective.close()
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
        if args.command in ("fit", "resume", "info", "study"):
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
