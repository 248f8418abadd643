"""How screens ask to move: messages that the App handles (screens never import each other)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class OpenRuns(Message):
    """Show the Runs screen."""


@dataclass
class OpenRun(Message):
    """Open a run read-only (live or replay), or a study's subjects when ``path`` is a study."""

    path: str


@dataclass
class ResumeRun(Message):
    """Continue a run on the app's first screen, unless ``problem`` (or that screen) says why not."""

    path: str
    problem: str | None = None
