"""What the app tests share: running async tests, waiting for a condition, feeding events and a UTC clock."""

from __future__ import annotations

import asyncio
import functools
import time

import pytest


def aio(f):
    """Run an async test with asyncio (no pytest-asyncio plugin needed)."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return asyncio.run(f(*args, **kwargs))
    return wrapper


async def wait_for(pilot, cond, timeout: float = 120.0) -> None:
    """Let the app run until ``cond()`` is true (an exception counts as false); fail after ``timeout`` s.

    The timeout only guards against a hang: every wait is for an event the app must reach, so it is generous enough
    for a loaded 2-core machine (a 30 s wait on the explore view's first result failed twice beside other jobs).
    """
    t = time.monotonic()

    def ok() -> bool:
        try:
            return bool(cond())
        except Exception:  # noqa: BLE001 - the screen may not be composed yet
            return False

    while not ok():
        if time.monotonic() - t > timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def feed(app, events) -> None:
    """Show engine events on the app's screen, in order, as the bridge would."""
    for e in events:
        app.screen.show_event(e)


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch):
    """Logs print local wall-clock stamps: a module that imports this runs every test in UTC (snapshots match)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
