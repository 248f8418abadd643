"""Console entry point: placeholder until the TUI lands."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the headless CLI."""
    from engine.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)
