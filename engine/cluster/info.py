"""``info --cluster``: the nodes of a cluster and the actors a fit would start there."""

from __future__ import annotations

from engine.cluster.actors import kill_actors, start_actors
from engine.cluster.connection import connect
from engine.cluster.plan import plan_slots
from engine.devices import human_bytes
from engine.text import one_line


def cluster_info_lines(address: str, cpu_actors: int | None = None) -> list[str]:
    """Nodes of the cluster and the actors a fit would start there, each with host, device and memory."""
    ray = connect(address)
    nodes = [n for n in ray.nodes() if n.get("Alive", True)]
    res = ray.cluster_resources()
    lines = [f"Ray {ray.__version__} cluster at {address}: {len(nodes)} node(s), {int(res.get('CPU', 0))} CPU, "
             f"{int(res.get('GPU', 0))} GPU"]
    slots = plan_slots(nodes, cpu_actors)
    handles = start_actors(ray, slots)
    try:
        for i, (s, h) in enumerate(zip(slots, handles)):
            try:
                d = ray.get(h.describe.remote(), timeout=120)
            except Exception as e:  # noqa: BLE001 - an actor that cannot start is listed as such
                lines.append(f"  actor {i}: {s.host} ({s.ip}), {s.kind}: could not start ({one_line(e)[:80]})")
                continue
            mem = f"{human_bytes(d['memory_in_use'])} in use of {human_bytes(d['memory_total'])}" \
                if d.get("memory_total") else "memory not reported"
            what = "RSS" if d["platform"] == "cpu" else "device"
            lines.append(f"  actor {i}: {d['host']} ({s.ip}), {d['device']} ({d['platform']}, {s.cpus} CPU"
                         f"{', 1 GPU' if s.gpus else ''}), {what} memory {mem}")
    finally:
        kill_actors(ray, handles)
    return lines
