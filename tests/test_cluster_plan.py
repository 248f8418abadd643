"""How a cluster batch is split: one slot per GPU or per CPU node (plan_slots), shares following measured speed
(plan_shares). Pure functions: no Ray needed."""

from __future__ import annotations

from engine.cluster.plan import plan_shares, plan_slots


def node(host: str, cpus: int, gpus: int = 0, alive: bool = True) -> dict:
    res = {"CPU": float(cpus)} | ({"GPU": float(gpus)} if gpus else {})
    return {"NodeID": f"id-{host}", "NodeManagerHostname": host, "NodeManagerAddress": f"10.0.0.{len(host)}",
            "Alive": alive, "Resources": res}


def test_slots_are_one_per_gpu_and_one_per_cpu_node_skipping_dead_hosts() -> None:
    slots = plan_slots([node("gpubox", 16, gpus=4), node("cpubox", 8), node("gone", 32, gpus=8, alive=False)])
    assert [(s.host, s.kind, s.cpus, s.gpus) for s in slots] == [("gpubox", "gpu", 4, 1)] * 4 + [("cpubox", "cpu", 8, 0)]
    assert {s.node_id for s in slots} == {"id-gpubox", "id-cpubox"}  # pinned to their nodes; the dead host has none
    # cpu_actors splits a CPU node's cores (never more actors than cores); GPU nodes stay one actor per GPU
    two = plan_slots([node("cpubox", 8), node("gpubox", 2, gpus=2)], cpu_actors=2)
    assert [(s.kind, s.cpus) for s in two] == [("cpu", 4), ("cpu", 4), ("gpu", 1), ("gpu", 1)]
    assert [s.cpus for s in plan_slots([node("tiny", 2)], cpu_actors=5)] == [1, 1]
    assert plan_slots([node("gone", 8, alive=False)]) == []


def test_shares_follow_the_measured_speed() -> None:
    assert plan_shares(16, [4, 4], [1.0, 1.0]) == [8, 8]  # equal speed: equal shares
    assert plan_shares(12, [4, 4], [1.0, 1.0]) == [8, 4]  # a tie goes to the first actor
    # an actor three times as fast (a third of the seconds per call) gets three times the candidates
    fast = plan_shares(64, [4, 4], [1.0, 3.0])
    assert sum(fast) == 64 and fast == [48, 16]
    # a slower actor gets nothing when the fast one finishes everything sooner
    assert plan_shares(4, [4, 4], [1.0, 10.0]) == [4, 0]
    # shares come in blocks of an actor's lanes, except the remainder; every candidate is placed once
    for n in (1, 5, 7, 33):
        got = plan_shares(n, [8, 2, 4], [2.0, 0.5, 1.0])
        assert sum(got) == n and all(c >= 0 for c in got)
    assert plan_shares(5, [], []) == []
