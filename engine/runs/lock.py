"""The single-writer lock of a run directory (``flock`` on its ``lock`` file, which holds the writer's PID)."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

from engine.runs.files import write_error
from engine.runs.layout import LOCK, RunError


def _lock_text() -> bytes:
    return f"{os.getpid()} {socket.gethostname()}\n".encode()


def _read_holder(path: Path) -> str:
    try:
        text = (path / LOCK).read_text().strip()
    except OSError:
        return "?"
    return text.split()[0] if text else "?"


def acquire_lock(path: Path) -> int:
    """Take the run's exclusive lock and write our PID into it; refuse when another process holds it."""
    try:
        fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise write_error(path, e) from None
    for attempt in range(10):  # a viewer may hold a shared lock for an instant while it checks liveness
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt == 9:
                os.close(fd)
                raise RunError(f"run {path} is live: process {_read_holder(path)} is writing it "
                               "(only one writer per run; attach to watch it)") from None
            time.sleep(0.02)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _lock_text(), 0)
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        raise write_error(path, e) from None
    return fd


def lock_holder(path: str | Path) -> str | None:
    """The PID (as text) of the process writing a run, or None when nobody holds its lock."""
    lock = Path(path) / LOCK
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(Path(path))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
