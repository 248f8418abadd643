"""``--map-control permute``: does the map matter? The same fit again with each map's values permuted over regions
within hemispheres (``--permutations K`` times), and the real fit's fresh-noise r beside theirs."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from engine.config import ConfigError, FitConfig
from engine.data import nulls
from engine.events import Summary

#: Permutations unless ``--permutations`` says otherwise.
DEFAULT_PERMUTATIONS = 4


def add_map_control_options(p: argparse.ArgumentParser) -> None:
    """``--map-control permute[:MAP,…]`` and ``--permutations K``."""
    p.add_argument("--map-control", default=None, metavar="permute[:MAP,…]",
                   help="after the fit, fit again with the maps' values permuted over regions within hemispheres "
                        "(all maps the fit uses, or those named) and report the real fit's r beside theirs")
    p.add_argument("--permutations", type=int, default=None, metavar="K",
                   help=f"fits with permuted maps for --map-control (default {DEFAULT_PERMUTATIONS})")


def parse_control(args: argparse.Namespace, config: FitConfig) -> tuple[tuple[str, ...], int] | None:
    """(maps to permute, permutations) of ``--map-control``, checked against the maps the fit uses; None without it."""
    text = getattr(args, "map_control", None)
    k = getattr(args, "permutations", None)
    if text is None:
        if k is not None:
            raise ConfigError("--permutations sets how many fits --map-control permute runs; add --map-control permute")
        return None
    kind, _, names = text.partition(":")
    if kind.strip() != "permute":
        raise ConfigError(f"--map-control {text!r}: the one control is 'permute' (or 'permute:MAP,MAP')")
    used = nulls.used_maps((*config.bounds, *config.fixed))
    if not used:
        raise ConfigError("--map-control permutes the maps a fit uses; this fit uses none (fit a P@MAP coefficient)")
    chosen = tuple(n.strip() for n in names.split(",") if n.strip()) or used
    unknown = [n for n in chosen if n not in used]
    if unknown:
        raise ConfigError(f"--map-control: {', '.join(unknown)} is not a map this fit uses; it uses {', '.join(used)}")
    k = DEFAULT_PERMUTATIONS if k is None else k
    if k < 1:
        raise ConfigError(f"--permutations must be at least 1, got {k}")
    return chosen, k


def headline_r(summary: Summary | None) -> float | None:
    """The fit's r a control compares: the fresh-noise mean when there is one, else the search's best."""
    if summary is None:
        return None
    fresh = summary.fresh or {}
    return fresh.get("fc_corr_mean") if fresh else summary.best_corr


def run_controls(config: FitConfig, control: tuple[tuple[str, ...], int], real: Summary,
                 run_one: Callable[[FitConfig, str], Summary | None]) -> dict[str, Any]:
    """Run the permuted fits with ``run_one(config, suffix)`` and return the control's verdict."""
    maps, k = control
    permuted = []
    for p in range(1, k + 1):
        print(f"map control: fit {p} of {k} with {', '.join(maps)} permuted within hemispheres", file=sys.stderr)
        s = run_one(config.replace(map_permutation=p, permuted_maps=maps, start=None), f"perm{p}")
        permuted.append(headline_r(s))
    return nulls.control_summary(maps, headline_r(real), permuted)


def control_lines(control: dict[str, Any]) -> list[str]:
    """Summary lines of the control."""
    f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
    perm = ", ".join(f(r) for r in control["permuted_fc_corr"])
    out = [f"map control     {', '.join(control['maps'])} permuted within hemispheres: r {perm} against "
           f"{f(control['real_fc_corr'])} with the real maps; p = {f(control['p_value'])} "
           f"(≥ {f(control['p_floor'])} with {control['permutations']} permutations)"]
    caveat = nulls.control_caveat(control)
    if caveat:
        out.append(f"warning         {caveat}")
    return out
