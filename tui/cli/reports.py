"""The ``report`` subcommand: a run's or a study's figures as PNG (PDF, SVG) beside one self-contained HTML page.

The figures are drawn by ``engine.report`` with matplotlib, an optional extra: without it the command says how to
install it in one line and exits 2.
"""

from __future__ import annotations

import argparse

from engine.report import FORMATS, PAGE, build_report, require_matplotlib
from tui.cli.errors import EXIT_OK
from tui.cli.parser import Subparsers


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report", help="draw a run's or a study's figures: one self-contained HTML page and the PNGs beside it",
        description="Draw the figures of a run (target and model FC with their difference, model vs data FC, FCD, "
                    "the search history with the baselines, fresh-noise and held-out scores, regional parameters) "
                    "or of a study (the per-subject table and distributions), as PNG files beside one "
                    f"self-contained {PAGE} (images embedded: it opens offline). Needs matplotlib: "
                    "pip install 'wcfit-tui[report]'.")
    p.add_argument("run", metavar="RUN|STUDY", help="run or study directory, or a run name under ./wcfit-runs")
    p.add_argument("--output", "-o", default=None, metavar="DIR",
                   help="folder for the page and the figures (default RUN/export/report/)")
    p.add_argument("--format", default="png", metavar="FORMATS",
                   help=f"figure files to write, comma-separated from {', '.join(FORMATS)} (PNG always; default png)")
    p.set_defaults(func=cmd_report)
    return (p,)


def cmd_report(args: argparse.Namespace) -> int:
    """``report RUN|STUDY [-o DIR] [--format png,pdf,svg]``: write the report, print the page's and figures' paths."""
    require_matplotlib()  # before anything is read: the one-line install hint
    report = build_report(args.run, args.output, args.format)
    print(report.html)
    for path in report.figures:
        print(path)
    return EXIT_OK
