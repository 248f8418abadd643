"""The command line's entry point: ``main`` and the one parser, built from the subcommand table.

The subcommands are listed in ``tui.cli.commands`` (``fit`` itself is ``tui.cli.fitting``); this module keeps its
name as the entry point (``python -m tui.cli.fit``, ``tui.main``). With no subcommand ``main`` opens the app
(``tui.cli.app``). Errors in the user's input end with one line on stderr and exit code 2, never a traceback (the
table is ``tui.cli.errors``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from engine.devices import use_cpu_cores_as_devices
from engine.params import registry_help
from engine.presets import preset_help
from tui.cli import app
from tui.cli.commands import JAX_COMMANDS, register_all
from tui.cli.errors import BAD_INPUT, report
from tui.cli.options.fit import add_fit_options, config_from_args
from tui.cli.parser import Parser

__all__ = ["add_fit_options", "build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser: the app's own option and every subcommand of ``tui.cli.commands``."""
    parser = Parser(prog="wcfit-tui", formatter_class=argparse.RawDescriptionHelpFormatter,
                    description="Fit a whole-brain Wilson–Cowan network to empirical FC.\n"
                                "With no subcommand the terminal app opens on the bundled HCP data.",
                    epilog="Fit parameters (--param/--fixed):\n" + registry_help() + "\n\nPresets (--preset):\n"
                           + preset_help() + "\n\n" + app.KEYS)
    app.add_app_options(parser)
    register_all(parser.add_subparsers(dest="command", parser_class=Parser))
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and run a subcommand (the app without one); bad input → one line on stderr and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_library_noise()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command in JAX_COMMANDS:
            use_cpu_cores_as_devices()
        if not getattr(args, "func", None):
            return app.open_app(args.data)
        return int(args.func(args))
    except BAD_INPUT as e:
        return report(e)


if __name__ == "__main__":
    sys.exit(main())
