"""The simulated adapter keeps the view's node indexes up to date as nodes change, and makes again only
the records of what changed (issue 17): at every view of a run they must be exactly what the view works
out from its nodes afresh, and its workloads what the world's workloads are now."""

import dataclasses

import pytest

from models.node_index import NodeTally, counted_alike
from models.snapshot import read
from models.sorting import natural_key
from models.state import ClusterState, Node, Resources, WorkloadStatus
from models.version import KubeVersion
from sim.adapters import ordered
from sim.adapters.simulated import LIVE, SimulatedPort
from sim.scenario import load_scenario, load_scenario_text
from sim.simulate import simulate
from sim.world.eviction import budget
from tests.test_golden_results import SIXTY, STRATEGIES

INDEXES = ("_nodes_by_name", "_nodes_by_pool", "_nodes_by_pool_named", "_nodes_by_pool_version",
           "_nodes_by_pool_holding", "_nodes_by_pool_draining", "node_counts")


def read_all(index):
    """A seeded index as a view reads it: its snapshots made tuples (``models.snapshot.read``)."""
    if index.__class__ is not dict:
        return index
    return {key: read(index, key, None) for key in list(index)}


def watched(monkeypatch) -> list[int]:
    """Compare every view's seeded indexes with a fresh view's; return the count of views compared."""
    seen = [0]
    observe = SimulatedPort.observe

    def checked(self):
        view = observe(self)
        fresh = dataclasses.replace(view)  # a new view of the same records: nothing seeded
        for name in INDEXES:
            assert name not in fresh.__dict__
            assert read_all(view.__dict__[name]) == getattr(fresh, name), name
        for pool in {n.pool for n in view.nodes} | {p.name for p in view.pools}:
            assert list(view.nodes_in_name_order(pool)) == sorted(fresh.nodes_in(pool), key=lambda n: natural_key(n.name))
        world = self.world
        assert view.nodes == tuple(self._by_name.values())  # kept in a list as names come and go: the same order
        assert set(view.__dict__) == {f.name for f in dataclasses.fields(ClusterState)} | set(INDEXES)  # (no __init__)
        for r in view.nodes:  # made without Node's __init__: every field there, and nothing else
            assert set(r.__dict__) == {f.name for f in dataclasses.fields(Node)}, r.name
            assert set(r.requested.__dict__) == set(r.reschedulable.__dict__) == {"cpu_m", "memory", "pods"}
            # the pods a drain would move, counted as they come and go: what listing them gives
            moving = [p.workload.spec.requests for p in world.evictions.remaining(world.nodes[r.name])]
            assert (r.pods, r.reschedulable) == (len(moving), Resources(sum(q.cpu_m for q in moving),
                                                                       sum(q.memory for q in moving), len(moving)))
        assert view.workloads == tuple(  # made again only for the workloads the world restated
            dataclasses.replace(sw.spec, status=WorkloadStatus(sw.desired, sw.ready, (budget(sw) or (None,))[0]))
            for sw in world.workloads.values())
        seen[0] += 1
        return view

    monkeypatch.setattr(SimulatedPort, "observe", checked)
    return seen


@pytest.mark.parametrize("strategy", ["inplace", "replace", "surge", "bluegreen"])
def test_every_view_of_a_sixty_node_run_indexes_its_nodes_as_a_fresh_view_would(monkeypatch, strategy):
    monkeypatch.setattr(ordered, "SMALL", 8)  # lists longer than 8 handed as snapshots, shorter ones as tuples
    seen = watched(monkeypatch)
    scenario = load_scenario_text(SIXTY, "scale-60", [STRATEGIES])
    result = simulate(scenario, scenario.strategy(strategy), seed=3)
    assert result.completed
    assert seen[0] > 100


@pytest.mark.parametrize("name", ["quickstart", "traffic", "webhook-deadlock", "seed-example"])
def test_every_view_of_a_shipped_scenario_indexes_its_nodes_as_a_fresh_view_would(monkeypatch, name):
    seen = watched(monkeypatch)
    scenario = load_scenario(f"scenarios/{name}.yaml")
    for spec in scenario.strategies:
        simulate(scenario, spec, seed=1)
    assert seen[0] > 20


def node(name, pool="p", kubelet="1.30.0", proxy="1.30.0", phase="idle", ready=True, schedulable=True):
    return Node(name, pool, "a", KubeVersion.parse(kubelet), KubeVersion.parse(proxy), Resources(1000, 2**30, 10),
                ready=ready, schedulable=schedulable, phase=phase)


def test_the_counts_say_what_progress_and_the_policies_ask():
    nodes = (node("p-1"), node("p-2", kubelet="1.29.0", proxy="1.29.0"), node("p-3", phase="deleting"),
             node("p-4", ready=False), node("p-5", schedulable=False), node("q-1", pool="q", phase="draining"))
    counts = NodeTally.of(nodes)
    v30, v29 = KubeVersion.parse("1.30.0"), KubeVersion.parse("1.29.0")
    assert counts.kubelets == {v30: 5, v29: 1}
    assert counts.proxies == {v30: 3, v29: 1}  # Ready and not deleting: not p-3, not p-4
    assert counts.unsettled == 3  # p-3 deleting, p-4 NotReady, q-1 draining
    assert counts.live == {"p": 4, "q": 1}
    assert counts.available == {"p": 2}  # p-1 and p-2
    view = ClusterState(None, (), nodes)
    assert view.available_in("p") == 2 and view.available_in("q") == 0
    assert view.live_in("p") == 4 and view.live_in("r") == 0


def test_a_tally_that_takes_every_node_away_again_counts_nothing():
    nodes = [node(f"p-{i}", kubelet=f"1.{28 + i % 3}.0", ready=i % 2 == 0) for i in range(9)]
    tally = NodeTally()
    for n in nodes:
        tally.count(n, 1)
    for n in reversed(nodes):
        tally.count(n, -1)
    assert tally.counts() == NodeTally.of(())
    assert tally.counts().kubelets == {} and tally.counts().unsettled == 0


def test_records_count_alike_when_only_their_pods_changed_and_not_across_what_a_tally_or_list_reads():
    base = dataclasses.replace(node("p-1"), pods=3)
    assert counted_alike(base, dataclasses.replace(base, pods=7, message="drained"))
    assert counted_alike(node("p-1"), dataclasses.replace(node("p-1"), message="x"))  # no pods either
    for changed in (dict(pods=0), dict(phase="draining"), dict(ready=False), dict(schedulable=False),
                    dict(pool="q"), dict(kubelet=KubeVersion.parse("1.29.0")),
                    dict(kube_proxy=KubeVersion.parse("1.29.0"))):
        assert not counted_alike(base, dataclasses.replace(base, **changed)), changed
    assert NodeTally.of((base,)) == NodeTally.of((dataclasses.replace(base, pods=7),))  # the tally agrees


class _Keeping:
    """A port wrapper that keeps every view (``keep``), or only notes which dict each gave by name."""

    def __init__(self, port, keep: bool):
        self.port, self.world, self.keep = port, port.world, keep
        self.views: list = []
        self.dicts: list[dict] = []  # (the dicts themselves: an id alone could be a freed one's again)

    def observe(self):
        view = self.port.observe()
        self.dicts.append(view.__dict__["_nodes_by_name"])
        if self.keep:
            self.views.append(view)
        return view

    def __getattr__(self, name):
        return getattr(self.port, name)


def _surge_watched(keep: bool) -> _Keeping:
    """A 60-node surge run through a ``_Keeping`` port (it completes)."""
    sc = load_scenario_text(SIXTY, "scale-60", [STRATEGIES])
    ports = []
    result = simulate(sc, sc.strategy("surge"), seed=1, wrap_port=lambda p: ports.append(_Keeping(p, keep)) or ports[0])
    assert result.completed is True
    return ports[0]


def test_a_view_kept_alive_keeps_its_nodes_by_name_while_the_port_goes_on_with_a_copy():
    views = _surge_watched(True).views
    assert len(views) > 100
    for view in views:  # every view, long after the port changed its nodes, still names its own records
        assert view.__dict__["_nodes_by_name"] == {n.name: n for n in view.nodes}


def test_the_reconcile_loop_lets_its_view_go_so_the_port_shares_one_dict_by_name_across_views():
    dicts = _surge_watched(False).dicts
    # the loop's view is gone before the next one: the port changes its dict in place instead of copying it
    assert len(dicts) == 374
    assert len({id(d) for d in dicts}) == 1


class _Late(_Keeping):
    """Keeps every view, and what its nodes were when it was made, read from the port's own lists."""

    def __init__(self, port):
        super().__init__(port, True)
        self.truth: list = []

    def observe(self):
        view = super().observe()
        port = self.port
        self.truth.append((tuple(port._by_name.values()),
                           {pool: tuple(o.items) for pool, o in port._named.items() if o.items},
                           {(pool, v): tuple(o.items) for (kind, pool), by in port._groups.items()
                            for v, o in by.items() if kind == LIVE and o.items}))
        return view


def test_a_view_read_only_after_the_run_reads_the_nodes_it_was_made_with(monkeypatch):
    # a view's node lists are snapshots, made tuples when first read: the port freezes one it still shares
    # before it changes the list, so a view read late (or kept) reads its own time, not the port's now
    monkeypatch.setattr(ordered, "SMALL", 8)  # (the default hands a 60-node cluster's lists as tuples)
    sc = load_scenario_text(SIXTY, "scale-60", [STRATEGIES])
    ports: list[_Late] = []
    result = simulate(sc, sc.strategy("surge"), seed=1, wrap_port=lambda p: ports.append(_Late(p)) or ports[0])
    assert result.completed is True
    port = ports[0]
    assert len(port.views) == 374
    for view, (nodes, named, live_lists) in zip(port.views, port.truth):
        assert view.nodes == nodes
        assert {pool: view.nodes_in_name_order(pool) for pool in named} == named
        assert {(pool, v): tuple(got) for pool in named for v, got in view.nodes_by_kubelet(pool).items()} \
            == live_lists
    assert len({view.nodes for view in port.views}) > 100  # (the views did see the nodes change)
