"""The bridge from the engine's worker thread to the UI: a queue plus a throttled wake-up message."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from textual.message import Message

from engine.events import TERMINAL, Compiling, Event, Started

#: Minimum seconds between two wake-ups for ordinary events (the UI drains everything queued).
THROTTLE_S = 0.05


class EventPump:
    """Collects engine events from any thread; wakes the UI at most every ``THROTTLE_S`` (floods merge)."""

    @dataclass
    class EventsQueued(Message):
        """Events are waiting in the pump; the handler drains them all, so pending copies merge."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, EventPump.EventsQueued)

    def __init__(self, post: Callable[[Message], object]) -> None:
        self._post = post
        self._queue: deque[Event] = deque()
        self._lock = threading.Lock()
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        """Listener for ``Search``: queue ``event`` and maybe wake the UI (called from the worker thread)."""
        with self._lock:
            self._queue.append(event)
            now = time.monotonic()
            urgent = isinstance(event, (Started, Compiling, *TERMINAL))
            if not urgent and now - self._last < THROTTLE_S:
                return
            self._last = now
        self._post(EventPump.EventsQueued())

    def flush(self) -> None:
        """Wake the UI for whatever is still queued (call when the worker ends)."""
        self._post(EventPump.EventsQueued())

    def drain(self) -> list[Event]:
        """Everything queued so far, oldest first."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
        return out
