"""One line under the panels: state (with a spinner while busy), progress, best result and throughput."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
BUSY = ("preparing", "compiling", "running", "stopping", "attached")


class StatusBar(Widget):
    """Shows what the fit is doing; ``tick`` (10 Hz) advances the spinner and elapsed time."""

    DEFAULT_CSS = "StatusBar { height: 1; width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = "idle"
        self.detail = "F5 start · F1 help"
        self.since = time.monotonic()
        self.frame = 0
        self.progress = ""
        self.best = ""

    def set_state(self, state: str, detail: str = "") -> None:
        """Enter a state ("idle", "preparing", "compiling", "running", "stopping", "finished", …)."""
        if state != self.state:
            self.since = time.monotonic()
        self.state, self.detail = state, detail
        self.refresh()

    def tick(self) -> None:
        """Advance the spinner (called by a 10 Hz timer)."""
        self.frame += 1
        if self.state in BUSY:
            self.refresh()

    def render(self) -> Text:
        busy = self.state in BUSY
        spin = SPINNER[self.frame % len(SPINNER)] + " " if busy else ""
        elapsed = f" {time.monotonic() - self.since:4.1f}s" if busy else ""
        style = {"failed": "bold red", "finished": "bold green", "stopped": "bold yellow"}.get(self.state, "bold")
        parts = [(f" {spin}{self.state}{elapsed} ", style)]
        for extra in (self.detail, self.progress, self.best):
            if extra:
                parts.append(("│ " + extra + " ", ""))
        return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")
