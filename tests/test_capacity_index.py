"""The scheduler's capacity index: a node whose free capacity alone changed (``resized``, what binding or
releasing a pod does) is answered exactly as after a full ``update``."""

from __future__ import annotations

from models.state import Resources
from sim.world.capacity import CapacityIndex
from sim.world.entities import SimNode


class _Pod:
    """What ``best_fit`` reads of a pod: its workload's requests."""

    class workload:  # noqa: N801 (a stand-in for SimWorkload)
        class spec:  # noqa: N801
            requests = type("Req", (), {"cpu_m": 1000, "memory": 1 << 30})


def _nodes(count: int) -> list[SimNode]:
    return [SimNode(f"n-{k}", "general", "a", "1.29.8", "1.29.8", "containerd", Resources(4000, 16 << 30, 110),
                    f"10.0.0.{k}", k) for k in range(count)]


def _index(nodes) -> CapacityIndex:
    index = CapacityIndex(lambda n: n.schedulable and not n.removed, lambda n: True)
    for n in nodes:
        index.update(n)
    return index


def _take(node: SimNode, cpu_m: int) -> None:
    node.used_cpu += cpu_m
    node.used_pods += 1


def _answers(index: CapacityIndex, nodes) -> list[str | None]:
    """The node each of a run of pods goes to, most free CPU first (ties: the first made)."""
    out = []
    for _ in range(12):
        node = index.best_fit(("general", "a", ()), _Pod())
        out.append(None if node is None else node.name)
        if node is not None:
            _take(node, 1000)
            index.resized(node)
    return out


def test_resized_answers_as_update_does():
    # four nodes of 4 CPUs, n-2 with 3.5 free: each 1-CPU pod goes to the node with the most free CPU, the
    # first made among equals; n-2 takes three and then has 0.5 left
    expected = ["n-0", "n-1", "n-3", "n-2", "n-0", "n-1", "n-3", "n-2", "n-0", "n-1", "n-3", "n-2"]
    for note in (CapacityIndex.update, CapacityIndex.resized):
        nodes = _nodes(4)
        index = _index(nodes)
        _take(nodes[2], 500)
        note(index, nodes[2])
        assert _answers(index, nodes) == expected, note.__name__


def test_resized_node_that_is_not_eligible_gets_no_entry():
    nodes = _nodes(2)
    index = _index(nodes)
    nodes[0].schedulable = False
    index.update(nodes[0])
    _take(nodes[0], 0)
    index.resized(nodes[0])  # cordoned: it stays out of the heap
    assert index.best_fit(("general", "a", ()), _Pod()).name == "n-1"
    assert [entry[2].name for entry in index._heaps[("general", "a", ())] if entry[1] == entry[2].stamp] == ["n-1"]
