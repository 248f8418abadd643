"""Command-line options of the model's structure: coupling, local parameter set, FIC and extra brain maps.

Regional coefficients need no option of their own: ``--param wEE@myelinmap=-1:1`` fits one, ``--fixed
ext_E@yeo7:3=0.2`` fixes one (see README, "Regional heterogeneity").
"""

from __future__ import annotations

import argparse

from engine import local_sets
from engine.model import coupling
from engine.settings import parse_map

__all__ = ["add_regional_options", "parse_map"]


def add_regional_options(p: argparse.ArgumentParser) -> None:
    """--coupling, --local-set, --fic / --no-fic and --map NAME=FILE."""

    p.add_argument("--coupling", default=None, choices=tuple(coupling.REGISTRY),
                   help="how delayed rates enter a node: " + "; ".join(f"{c.name}: {c.description}"
                                                                      for c in coupling.REGISTRY.values())
                        + f" (default {coupling.DEFAULT})")
    p.add_argument("--local-set", default=None, choices=tuple(local_sets.REGISTRY),
                   help="named starting values of the node's parameters: " + "; ".join(
                       f"{s.name}: {s.description}" for s in local_sets.REGISTRY.values())
                        + f" (default {local_sets.DEFAULT}); --param/--fixed still override any")
    p.add_argument("--fic", action=argparse.BooleanOptionalAction, default=None,
                   help="feedback inhibition control: each region's I→E weight holds its rE at fic_target "
                        "(a parameter, default 0.05) at the network's fixed point")
    p.add_argument("--map", action="append", default=[], metavar="NAME=FILE",
                   help="a brain map (N numbers in a .txt/.csv) that regional coefficients NAME can follow, e.g. "
                        "--map myelin=myelin.txt --param ext_E@myelin=-1:1 (repeatable)")
