"""The device panel's lines for a cluster fit's Ray actors: host, device, state and memory, then the share of the
last batch and throughput; a lost actor is marked LOST with why. Two short lines per actor fit the panel's column."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text

from engine.devices import human_bytes
from engine.events import ActorRow

STATE_STYLE = {"ready": "green", "starting": "yellow", "dead": "bold red"}
STATE_TEXT = {"ready": "ready", "starting": "starting", "dead": "LOST"}


def throughput(row: ActorRow, simulated_seconds: float) -> str:
    """Candidates per second, and simulated seconds per wall second when the candidate length is known."""
    if row.candidates_per_s is None:
        return "no batch yet"
    text = f"{row.candidates_per_s:,.1f} cand/s"
    if simulated_seconds > 0:
        text += f" · {row.candidates_per_s * simulated_seconds:,.1f} sim s/s"
    return text


def actor_lines(rows: Sequence[ActorRow], simulated_seconds: float = 0.0) -> Text:
    """A title line, then two lines per actor: host, device, state, memory; share of the last batch, throughput."""
    total = sum(r.share for r in rows)
    alive = sum(1 for r in rows if r.state != "dead")
    t = Text(f"Ray actors: {alive} of {len(rows)} alive\n", style="bold")
    for r in rows:
        t.append(f" #{r.index} ", style="bold")
        t.append(f"{r.host}  {r.device}  ")
        t.append(STATE_TEXT.get(r.state, r.state), style=STATE_STYLE.get(r.state, ""))
        if r.state == "dead" and r.note:
            t.append(f" ({r.note})", style="red")
        if r.memory_total:
            t.append(f"  {human_bytes(r.memory_in_use)}/{human_bytes(r.memory_total)}")
        share = f"share {r.share}" + (f" ({100 * r.share / total:.0f}%)" if total else "")
        t.append(f"\n    {share} · {throughput(r, simulated_seconds)}\n", style="dim" if r.state == "dead" else "")
    t.rstrip()
    return t
