"""Where a cluster's actors go (one per GPU, one per CPU-only host or ``cpu_actors`` per host) and how a batch is
shared between them (list scheduling on each actor's measured seconds per call). Pure: no Ray, no JAX."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True, kw_only=True)
class Slot:
    """One actor to start: the node it is pinned to and the resources it holds."""

    node_id: str
    host: str
    ip: str
    kind: str  # "gpu" | "cpu"
    cpus: int
    gpus: int


def plan_slots(nodes: Sequence[Mapping[str, Any]], cpu_actors: int | None = None) -> list[Slot]:
    """One slot per GPU of each live node; a node without GPUs is one slot with its cores (or ``cpu_actors``)."""
    out: list[Slot] = []
    for n in nodes:
        if not n.get("Alive", True):
            continue
        res = n.get("Resources") or {}
        gpus, cpus = int(res.get("GPU", 0)), int(res.get("CPU", 0))
        base = dict(node_id=str(n.get("NodeID", "")), host=str(n.get("NodeManagerHostname", "?")),
                    ip=str(n.get("NodeManagerAddress", "?")))
        if gpus:
            per = cpus // gpus
            out += [Slot(kind="gpu", cpus=per, gpus=1, **base) for _ in range(gpus)]
        elif cpus:
            k = max(1, min(cpu_actors or 1, cpus))
            out += [Slot(kind="cpu", cpus=cpus // k, gpus=0, **base) for _ in range(k)]
    return out


def plan_shares(n: int, lanes: Sequence[int], seconds: Sequence[float]) -> list[int]:
    """Split ``n`` candidates: each next block of an actor's lanes goes where it would finish first."""
    if not lanes:
        return []
    finish = [0.0] * len(lanes)
    counts = [0] * len(lanes)
    left = n
    while left > 0:
        i = min(range(len(lanes)), key=lambda a: (finish[a] + seconds[a], -lanes[a], a))
        take = min(lanes[i], left)
        counts[i] += take
        finish[i] += seconds[i]
        left -= take
    return counts
