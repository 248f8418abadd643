"""Exit codes, and the one table from an error to its exit code and its one line on stderr."""

from __future__ import annotations

import sys

from engine.config import ConfigError
from engine.data.dataset import DataError
from engine.runs import RunError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class Refused(Exception):
    """A command refuses what it was asked (e.g. ``serve`` on a public address): one line, exit code 2."""


#: Errors that are the user's to fix (bad options, data, settings, run directories, files): one line, exit code 2.
#: A cluster that cannot be used is a ConfigError (``engine.cluster.objective.ClusterError``).
BAD_INPUT: tuple[type[BaseException], ...] = (UsageError, Refused, ConfigError, DataError, RunError, OSError)


def message(e: BaseException) -> str:
    """The one line that reports an error of ``BAD_INPUT``."""
    if isinstance(e, UsageError):
        return str(e)
    if isinstance(e, OSError) and not isinstance(e, RunError):
        return f"wcfit-tui: {e.strerror or e}: {e.filename or ''}".rstrip(": ")
    return f"wcfit-tui: {e}"


def report(e: BaseException) -> int:
    """Print the error's one line on stderr; its exit code."""
    print(message(e), file=sys.stderr)
    return EXIT_BAD_INPUT
