"""The headless CLI in-process, through ``main()``: bad-input cases need no new interpreter and no recompilation.

One real-entry-point subprocess per concern stays in the test files (``python -m tui.cli.fit``), so the installed
command is still exercised; everything else calls the same ``main()`` with the same arguments.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """What a command returned and printed (named as subprocess.CompletedProcess names them)."""

    returncode: int
    stdout: str
    stderr: str


def run_main(*argv: str) -> Result:
    """``wcfit-tui ARGV`` via tui.main.main in this process, its output captured; XLA_FLAGS is restored after."""
    import jax

    from tui.main import main

    jax.devices()  # JAX starts here as every other test starts it: main() would start it with one device per core

    flags = os.environ.get("XLA_FLAGS")  # main() may add the CPU device count for a JAX that has not started
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse's --help and usage errors
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        if flags is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = flags
    return Result(int(code or 0), out.getvalue(), err.getvalue())
