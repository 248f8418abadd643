"""The command line's parser class (a usage error raises ``UsageError``: one line, exit code 2) and the type of the
subparsers that each subcommand module's ``register`` adds its parsers to (``tui.cli.commands``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from tui.cli.errors import UsageError

if TYPE_CHECKING:
    from typing import TypeAlias

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors raise ``UsageError`` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")
