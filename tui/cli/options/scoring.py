"""Command-line options for what a fit is scored on: edges, noise realisations, held-out checks (``--split``,
``--test``); and the summary lines that show them."""

from __future__ import annotations

import argparse
from typing import Any

from engine.config import MAX_REALIZATIONS
from engine.data import edges
from engine.data.split import DEFAULT_SPLIT, SPLITS
from engine.summary_text import verdict_lines


def add_scoring_options(p: argparse.ArgumentParser) -> None:
    """``--edges``, ``--realizations``, ``--split``, ``--test``."""

    p.add_argument("--edges", default=None, choices=edges.NAMES,
                   help="FC edges scored (terms, r and the structure-alone baseline): all (default) or within "
                        "(within-hemisphere edges; hemispheres from labels _L/_R, LH_/RH_ or a 'hemisphere' array)")
    p.add_argument("--realizations", type=int, default=None, metavar="R",
                   help=f"noise realisations per candidate (1–{MAX_REALIZATIONS}, default 1): scored on their mean FC, "
                        "FCD values pooled; R× the lanes")
    p.add_argument("--split", nargs="?", const=DEFAULT_SPLIT, default=None, choices=tuple(SPLITS), metavar="MODE",
                   help=f"held-out check on the data's scans: fit on some, score the best on the rest "
                        f"({', '.join(SPLITS)}; default {DEFAULT_SPLIT}: even scans train, odd scans test)")
    p.add_argument("--test", default=None, metavar="DATA",
                   help="held-out check on another dataset of the same regions (another group or scan day)")
    p.add_argument("--fresh", type=int, default=None, metavar="R",
                   help="fresh-noise verdict: after the fit, simulate the best point and the recommendation with R "
                        "new noise seeds (one batched call) and report mean ± sd of r, every term and the mean FC "
                        "(default 4; 0 skips it)")


def summary_lines(summary: Any) -> list[str]:
    """Lines for the fit summary: the edges scored, realisations, and the held-out check's train and test scores."""
    lines = []
    if getattr(summary, "edges", "all") != "all":
        lines.append(f"edges           {summary.edges} (FC correlation, terms and structure alone on these edges)")
    if getattr(summary, "realizations", 1) > 1:
        lines.append(f"realisations    {summary.realizations} per candidate (scored on their mean FC)")
    lines += [f"{label:<15} {text}" for label, text in verdict_lines(summary)]  # a space after a 16-character label too
    return lines
