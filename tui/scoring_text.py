"""The app's text for how a fit was scored: edges, noise realisations and the held-out check."""

from __future__ import annotations

from typing import Any

from engine.summary_text import verdict_lines


def result_lines(summary: Any) -> list[str]:
    """The app's result lines for the scoring options and verdicts: edges, realisations, nulls, fresh noise, held-out."""
    out = []
    bits = []
    if getattr(summary, "edges", "all") != "all":
        bits.append(f"edges {summary.edges} (r, terms and structure alone on them)")
    if getattr(summary, "realizations", 1) > 1:
        bits.append(f"{summary.realizations} noise realisations (mean FC)")
    if bits:
        out.append(" · ".join(bits))
    out += [f"{label.strip()}: {text}" if label.strip() else text for label, text in verdict_lines(summary, compact=True)]
    return out

