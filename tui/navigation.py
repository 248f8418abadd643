"""How screens ask to move: messages that the App handles (screens never import each other)."""

from __future__ import annotations

from textual.message import Message


class OpenRuns(Message):
    """Show the Runs screen."""


class OpenRun(Message):
    """Open a run read-only (live or replay), or a study's subjects when ``path`` is a study."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class ResumeRun(Message):
    """Continue a run on the app's first screen, unless ``problem`` (or that screen) says why not."""

    def __init__(self, path: str, problem: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.problem = problem
