"""Every subcommand of ``wcfit-tui``, in one table: the subcommands and the module whose ``register`` adds them.

Each module's ``register(subparsers) -> parsers`` adds its subcommands' parsers (each with its handler in
``set_defaults(func=…)``) and returns them. A new subcommand is a module with ``register`` and a line in
``COMMANDS``; ``tui.cli.fit.build_parser`` builds the parser from this table. The options several subcommands share
live in ``tui.cli.options``.
"""

from __future__ import annotations

from types import ModuleType

from tui.cli import app, bench, data, fitting, info, reports, runs, serve, simulate, study
from tui.cli.parser import Subparsers

#: (the subcommands, the module whose ``register`` adds them), in the order ``--help`` lists them.
COMMANDS: tuple[tuple[tuple[str, ...], ModuleType], ...] = (
    (("fit",), fitting),
    (("info",), info),
    (("bench",), bench),
    (("runs", "resume", "export"), runs),
    (("report",), reports),
    (("simulate",), simulate),
    (("data",), data),
    (("study",), study),
    (("serve",), serve),
    (("attach",), app),
)

#: The subcommands that start JAX (None: the app): before it starts, batches are sharded over every CPU core.
JAX_COMMANDS: tuple[str | None, ...] = (None, "fit", "resume", "info", "study", "attach")


def register_all(subparsers: Subparsers) -> None:
    """Add every subcommand of the table."""
    for _names, module in COMMANDS:
        module.register(subparsers)
