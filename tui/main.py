"""Console entry point ``wcfit-tui``: the app, or a subcommand of the command line (``tui.cli``)."""

from __future__ import annotations

import sys

from tui.cli.fit import main

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
