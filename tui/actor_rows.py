"""The device panel's table of a cluster fit's Ray actors: host, device, memory, share of the last batch, speed."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table
from rich.text import Text

from engine.devices import human_bytes
from engine.events import ActorRow

STATE_STYLE = {"ready": "green", "starting": "yellow", "dead": "bold red"}
STATE_TEXT = {"ready": "ready", "starting": "starting", "dead": "LOST"}


def throughput(row: ActorRow, simulated_seconds: float) -> str:
    """Candidates per second, and simulated seconds per wall second when the candidate length is known."""
    if row.candidates_per_s is None:
        return "—"
    text = f"{row.candidates_per_s:,.2f} cand/s"
    if simulated_seconds > 0:
        text += f" · {row.candidates_per_s * simulated_seconds:,.1f} sim s/s"
    return text


def actor_table(rows: Sequence[ActorRow], simulated_seconds: float = 0.0) -> Table:
    """One line per actor; a lost actor is marked LOST with why."""
    total = sum(r.share for r in rows)
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=False)
    for name, justify in (("actor", "right"), ("host", "left"), ("device", "left"), ("memory", "right"),
                          ("share", "right"), ("throughput", "right"), ("state", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        mem = "—" if not r.memory_total else f"{human_bytes(r.memory_in_use)} / {human_bytes(r.memory_total)}"
        share = f"{r.share}" + (f" ({100 * r.share / total:.0f}%)" if total else "")
        state = Text(STATE_TEXT.get(r.state, r.state), style=STATE_STYLE.get(r.state, ""))
        if r.state == "dead" and r.note:
            state.append(f" {r.note}", style="red")
        table.add_row(str(r.index), r.host, r.device, mem, share, throughput(r, simulated_seconds), state)
    return table
