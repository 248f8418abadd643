"""The app's text for how a fit was scored: edges, noise realisations and the held-out check."""

from __future__ import annotations

from typing import Any, Mapping


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
        out.extend(held_out_lines(held))
    return out


def held_out_lines(held: Mapping[str, Any], *, summary: bool = False) -> list[str]:
    """The held-out check's train and test scores: the app's one line, or (``summary``) the printed summary's two."""
    digits = 4 if summary else 3
    f = lambda v: "—" if v is None else f"{v:.{digits}f}"  # noqa: E731
    pair = lambda k: f"{f(held.get('train_' + k))} / {f(held.get('test_' + k))}"  # noqa: E731
    has_ks = held.get("train_ks") is not None or held.get("test_ks") is not None
    if summary:
        return [f"held-out        {held.get('check', '')}",
                f"  train / test  r {pair('r')}" + (f"   KS {pair('ks')}" if has_ks else "")
                + f"   structure alone {pair('baseline')}"]
    return [f"held-out {held.get('check', '')}: train / test r {pair('r')}" + (f" · KS {pair('ks')}" if has_ks else "")
            + f" · structure alone {f(held.get('test_baseline'))} on the test"]
