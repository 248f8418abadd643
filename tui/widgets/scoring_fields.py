"""The setup form's scoring row: edges scored, noise realisations, and the held-out check (a split of the data's
scans or another dataset), as ``wcfit-tui fit --edges --realizations --split --test`` set them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select

from engine.config import FitConfig
from engine.data import edges
from engine.data.split import SPLITS

#: The held-out choices: none, a split mode, or another dataset.
HELD_OUT = ("none", *SPLITS, "test data")


class ScoringFields(Vertical):
    """Edges, realisations and held-out inputs; ``read()`` gives their FitConfig keyword arguments."""

    DEFAULT_CSS = """
    ScoringFields { height: auto; }
    """

    def __init__(self, config: FitConfig, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = config

    def compose(self) -> ComposeResult:
        c = self.initial
        held = c.split or ("test data" if c.test_data else "none")
        with Horizontal(classes="form-row"):
            yield Label("edges", classes="flabel")
            yield Select([(e, e) for e in edges.NAMES], value=c.edges, allow_blank=False, compact=True, id="edges",
                         tooltip="FC edges scored: all, or within hemispheres (labels _L/_R, LH_/RH_)")
            yield Label("noise×", classes="flabel2")
            yield Input(f"{c.realizations}", id="realizations", compact=True, classes="num",
                        tooltip="noise realisations per candidate, scored on their mean FC")
        with Horizontal(classes="form-row"):
            yield Label("held-out", classes="flabel")
            yield Select([(h, h) for h in HELD_OUT], value=held, allow_blank=False, compact=True, id="held_out",
                         tooltip="score the best candidate on scans (or data) it was not fitted to")
            yield Input(c.test_data, id="test_data", compact=True, classes="wide",
                        placeholder="test data (same regions), with held-out: test data")

    def read(self) -> dict[str, object]:
        """FitConfig keyword arguments; ValueError (one line) for a bad entry."""
        text = self.query_one("#realizations", Input).value.strip()
        try:
            reals = int(text)
        except ValueError:
            raise ValueError(f"realisations: {text!r} is not a whole number") from None
        held = str(self.query_one("#held_out", Select).value)
        test = self.query_one("#test_data", Input).value.strip()
        if held == "test data" and not test:
            raise ValueError("held-out: name the test data (a dataset of the same regions)")
        return {"edges": str(self.query_one("#edges", Select).value), "realizations": reals,
                "split": held if held in SPLITS else "", "test_data": test if held == "test data" else ""}
