"""This process's one connection to a Ray cluster, and the one-line errors of a cluster that cannot be used.

Ray is optional (``pip install -e ".[cluster]"``) and imported only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from typing import Any, Iterator

from engine.config import ConfigError
from engine.search import FitError
from engine.text import one_line

#: The one line printed when ``--cluster`` is asked for without Ray installed.
INSTALL_HINT = 'Ray is not installed; --cluster needs it: pip install -e ".[cluster]"'


class _Connection:
    """This process's one connection to a Ray cluster (Ray allows one per process): its address, under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.address: str | None = None


_CONNECTION = _Connection()


class ClusterError(ConfigError, FitError):
    """The cluster cannot be used as asked (no Ray, no connection, no actor left); one line for the user.

    A ConfigError for the CLI (exit code 2 before a fit starts) and a FitError for the search (its message ends
    a fit that is under way as it is)."""


def import_ray() -> Any:
    """The ``ray`` module, or a ClusterError with the install hint."""
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a HOST:PORT address nobody answers on within seconds (Ray itself would retry for minutes)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host or not host:
        return  # e.g. "auto" or a ray:// client address: left to Ray
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {e.strerror or one_line(e)} "
                           "(start it with: ray start --head)") from None


@contextlib.contextmanager
def _file_streams() -> Iterator[None]:
    """Stdout/stderr that are real files while Ray starts (a TUI's capture objects have no file descriptor)."""
    def real(stream: Any) -> bool:
        try:
            return stream is not None and stream.fileno() >= 0
        except (OSError, ValueError, AttributeError):
            return False

    if real(sys.stdout) and real(sys.stderr):
        yield
        return
    saved = sys.stdout, sys.stderr
    with open(os.devnull, "w") as null:
        sys.stdout, sys.stderr = (s if real(s) else null for s in saved)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


def connect(address: str) -> Any:
    """Connect this process to the Ray cluster at ``address`` (once); returns the ``ray`` module."""
    ray = import_ray()
    with _CONNECTION.lock:
        if ray.is_initialized():
            if _CONNECTION.address not in (None, address):
                raise ClusterError(f"this process is connected to the Ray cluster at {_CONNECTION.address}, "
                                   f"not {address}")
            return ray
        reachable(address)
        try:
            with _file_streams():
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as e:  # noqa: BLE001 - connection refused, bad address, version mismatch, …
            raise ClusterError(f"cannot connect to the Ray cluster at {address}: {one_line(e)}") from None
        _CONNECTION.address = address
    return ray
