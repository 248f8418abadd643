"""The app's text for how a fit was scored: edges, noise realisations and the held-out check."""

from __future__ import annotations

from typing import Any


def result_lines(summary: Any) -> list[str]:
    """The app's result lines for the scoring options (empty with today's defaults): edges, realisations, held-out."""
    out = []
    bits = []
    if getattr(summary, "edges", "all") != "all":
        bits.append(f"edges {summary.edges} (r, terms and structure alone on them)")
    if getattr(summary, "realizations", 1) > 1:
        bits.append(f"{summary.realizations} noise realisations (mean FC)")
    if bits:
        out.append(" · ".join(bits))
    held = getattr(summary, "held_out", None)
    if held:
        f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        ks = (f" · KS {f(held.get('train_ks'))} / {f(held.get('test_ks'))}"
              if held.get("train_ks") is not None or held.get("test_ks") is not None else "")
        out.append(f"held-out {held.get('check', '')}: train / test r {f(held.get('train_r'))} / "
                   f"{f(held.get('test_r'))}{ks} · structure alone {f(held.get('test_baseline'))} on the test")
    return out
