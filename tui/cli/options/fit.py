"""The fit options every fit-like command shares (``fit``, ``simulate``, ``study``) and the FitConfig they describe."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine import presets
from engine.config import BUNDLED, INITIAL_STATES, OPTIMIZERS, FitConfig
from engine.model import observe, terms
from engine.runs import RunError
from engine.settings import config_from_settings
from tui.cli.options.cluster import add_cluster_options
from tui.cli.options.regional import add_regional_options
from tui.cli.options.scoring import add_scoring_options


def add_fit_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``fit``, ``simulate`` and the TUI: preset, data, parameters, search and simulation settings.

    Options left out take the preset's value (``--preset``, default ``bold``); given ones override it.
    """
    p.add_argument("--preset", default=None, metavar="NAME",
                   help=f"starting settings: {', '.join(presets.REGISTRY)} (default {presets.DEFAULT}); options override")
    p.add_argument("--data", default=BUNDLED, metavar="PATH|kaggle:OWNER/DATASET[/FILE]",
                   help="dataset: .msgpack/.npz/.mat file, a folder or .zip of tables, or kaggle:…; default: bundled HCP (80 regions)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=LO:HI",
                   help="fit a parameter within bounds (repeatable; replaces the preset's fitted parameters)")
    p.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a parameter (repeatable); the presets fix "
                        + "; ".join(f"{n}: " + ", ".join(f"{k}={v:g}" for k, v in p.settings.get("fixed", {}).items())
                                    for n, p in presets.REGISTRY.items() if p.settings.get("fixed")))
    p.add_argument("--start", action="append", default=None, metavar="NAME=VALUE",
                   help="where the search starts (repeatable; asked first, CMA centred there): fitted parameters "
                        "not named start at the preset's point or the middle of their bounds")
    p.add_argument("--optimizer", default=None, metavar="NAME",
                   help=f"{', '.join(OPTIMIZERS)} or any Nevergrad optimizer name (the preset's: "
                        + ", ".join(f"{p.settings.get('optimizer')} for {n}" for n, p in presets.REGISTRY.items()) + ")")
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
    add_scoring_options(p)
    add_cluster_options(p)
    add_regional_options(p)


#: FitConfig fields set by options of the same meaning (option attribute → field); the rest go as typed.
_OPTION_FIELDS = {"optimizer": "optimizer", "batch": "batch", "budget": "budget", "duration": "duration_ms",
                  "dt": "dt_ms", "transient": "transient_ms", "observe": "observe", "tr": "tr_s",
                  "objective": "objective", "fcd_window": "fcd_window_s", "fcd_step": "fcd_step_s",
                  "initial": "initial", "seed": "seed", "edges": "edges", "realizations": "realizations",
                  "split": "split", "test": "test_data", "coupling": "coupling", "local_set": "local_set",
                  "fic": "fic", "preset": "preset", "data": "data", "param": "param", "fixed": "fix",
                  "bandpass": "bandpass", "own_noise": "own_noise", "map": "map", "fresh": "fresh_seeds",
                  "start": "start_at"}


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    """The user's settings the fit options give (``engine.settings``); options left out are absent."""
    out = {name: getattr(args, option, None) for option, name in _OPTION_FIELDS.items()}
    return {k: v for k, v in out.items() if v is not None}


def config_from_args(args: argparse.Namespace) -> FitConfig:
    """Build the FitConfig that the fit options describe: the preset, overridden by the options given (ConfigError)."""
    return config_from_settings(settings_from_args(args))


def fcd_window_given(args: argparse.Namespace) -> bool:
    """Whether ``--fcd-window`` or ``--fcd-step`` was given (else a group's FCD values set them)."""
    return getattr(args, "fcd_window", None) is not None or getattr(args, "fcd_step", None) is not None


def export_formats(args: argparse.Namespace, choose: str) -> tuple[list[str], Path | None]:
    """The export formats asked for (once each) and ``--output``; RunError when none is asked or several go to a file."""
    formats = list(dict.fromkeys(args.formats or []))
    if not formats:
        raise RunError(f"choose what to export: {choose}")
    out = Path(args.output) if args.output else None
    if out is not None and len(formats) > 1 and not out.is_dir():
        raise RunError("--output with several formats must be an existing directory")
    return formats, out
