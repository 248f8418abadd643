"""Opening the Textual app from the command line: with no subcommand, or ``attach RUN|STUDY`` as a read-only viewer."""

from __future__ import annotations

import argparse

from engine.study.table import attach_kind
from tui.cli.parser import Subparsers

#: The app's keys, at the end of ``wcfit-tui --help``.
KEYS = ("keys in the app: F5 start, F6 stop, Ctrl+R reset, F7 export, F8 plot view, F11 landscape, Ctrl+T next term, "
        "Ctrl+B FCD/BOLD, Ctrl+N explore, Ctrl+F fit from here, F12 runs, F1 help, Ctrl+Q quit")


def add_app_options(p: argparse.ArgumentParser) -> None:
    """The app's own option: the dataset its setup form starts with."""
    p.add_argument("--data", default="bundled",
                   help="dataset for the app: 'bundled' (HCP, 80 regions), a .msgpack/.npz/.mat file, a folder or .zip "
                        "of tables, or kaggle:OWNER/DATASET[/FILE]")


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``attach`` subcommand."""
    p = subparsers.add_parser("attach", help="open the app as a read-only viewer of a (running) run, or a study's "
                                             "subjects")
    p.add_argument("run", metavar="RUN|STUDY", help="run directory or study directory")
    p.set_defaults(func=cmd_attach)
    return (p,)


def cmd_attach(args: argparse.Namespace) -> int:
    """``wcfit-tui attach RUN|STUDY``: the app, following the run (or listing the study's subjects)."""
    return open_app("bundled", attach=str(attach_kind(args.run)[1]))


def open_app(data: str, attach: str | None = None) -> int:
    """Run the Textual app until it quits; its return code."""
    # lazy: Textual and the screens load only when the app opens, not for subcommands
    from tui.app import WcfitApp

    app = WcfitApp(data, attach=attach)
    app.run()
    return int(app.return_code or 0)
