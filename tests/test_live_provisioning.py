"""A provisioning on a live cluster counts once: as its placeholder until its Node is listed, then as
that Node, even while its hook still runs (``sim.adapters.live_provisioning``). The hooks here make
their Node and end when the test says (``provision-node-gated`` in tests/live_hooks.py), so every
moment in between is looked at; the pairing rules themselves are checked on plain records."""

import json
import sys
import time

from dataclasses import replace

import pytest

from models.actions import DeleteNode, ProvisionNode
from models.state import Resources
from models.version import parse_version as V
from sim.adapters import live_provisioning as lp
from sim.adapters.hook_ledger import HookRecord
from sim.adapters.hooks import HookResult
from sim.adapters.kube_client import Kube
from sim.adapters.kubeconfig import load_config
from sim.adapters.live import LivePort
from sim.scenario import load_scenario
from sim.scenario.model import LiveSettings
from sim.simulate import world_for
from tests.kube_harness import FAST_RETRY, KubeHarness
from tests.kube_objects import POOL_LABEL, objects_from_world

HOOK = f"{sys.executable} tests/live_hooks.py"
OLD = [("workers-1", "idle"), ("workers-2", "idle")]
RUNNING = "registered; its provisionNode hook is still running"


class Cluster:
    """The seed example's two workers on the fake API, a live port whose provisionNode hook waits for
    the test's word (``register``, ``end``), and every view the port showed (``views``)."""

    def __init__(self, tmp_path, monkeypatch):
        world = world_for(load_scenario("scenarios/seed-example.yaml"), seed=1)
        self.server = KubeHarness(objects_from_world(world), version=f"v{world.start_version}").__enter__()
        monkeypatch.setenv("MIDAIR_TEST_SERVER", self.server.url)
        monkeypatch.setenv("MIDAIR_TEST_HOOK_LOG", str(tmp_path / "hooks.log"))
        self.gates = tmp_path / "gates"
        self.gates.mkdir()
        self.ledger = tmp_path / "ledger"
        self.config = load_config(self.server.kubeconfig(tmp_path / "kubeconfig"), None)
        self.hooks = (("provisionNode", f"{HOOK} provision-node-gated {{pool}} {{zone}} {{version}} {self.gates}"),
                      ("deleteNode", f"{HOOK} delete-node {{node}}"))
        self.events: list = []
        self.views: list[list[tuple[str, str]]] = []
        self.port = self.open()

    def open(self) -> LivePort:
        """A port on the cluster and the hook ledger (a second one: midair resumed)."""
        settings = LiveSettings(pool_label=POOL_LABEL, hooks=self.hooks, hook_timeout_s=60, poll_interval_s=0.2)
        return LivePort(lambda: Kube(self.config, retry=FAST_RETRY), settings, {"workers": 2}, log=lambda text: None,
                        reconcile_interval_s=0.05, ledger_dir=str(self.ledger), report=self.events.append)

    def provision(self, zone: str = "a") -> str:
        """Submit a provisioning; the name its hook took once it has started."""
        before = set(self.gates.glob("*.started"))
        assert self.port.submit(ProvisionNode("test", "workers", V("1.14.10"), zone)).accepted
        deadline = time.monotonic() + 20
        while not (started := set(self.gates.glob("*.started")) - before):
            assert time.monotonic() < deadline, "the hook never started"
            time.sleep(0.02)
        (path,) = started
        return path.name.removesuffix(".started")

    def register(self, name: str) -> None:
        (self.gates / f"{name}.register").touch()

    def end(self, name: str, code: int = 0, line: str | None = None) -> None:
        (self.gates / f"{name}.exit").write_text(f"{code} {name if line is None else line}")

    def view(self):
        state = self.port.observe()
        self.views.append([(n.name, n.phase) for n in state.nodes])
        return state

    def wait(self, until, timeout: float = 20.0):
        """Look until ``until(state)``; the state."""
        deadline = time.monotonic() + timeout
        while not until(state := self.view()):
            assert time.monotonic() < deadline, self.views[-1]
            time.sleep(0.05)
        return state

    def wait_for(self, nodes: list[tuple[str, str]]):
        return self.wait(lambda s: [(n.name, n.phase) for n in s.nodes] == nodes)

    def seen(self, record_id: int) -> dict | None:
        path = self.ledger / f"{record_id}.seen"
        return json.loads(path.read_text()) if path.exists() else None

    def close(self):
        self.port.close()
        self.server.__exit__(None, None, None)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    c = Cluster(tmp_path, monkeypatch)
    yield c
    for name in [p.name.removesuffix(".started") for p in c.gates.glob("*.started")]:
        if not (c.gates / f"{name}.exit").exists():
            c.end(name, 1, "the test is over")  # no hook outlives its test
    c.close()


def nodes_of(state):
    return [(n.name, n.phase, n.message) for n in state.nodes]


def test_a_node_listed_while_its_hook_runs_takes_its_placeholder_s_place(cluster):
    name = cluster.provision()
    assert name == "workers-new-1"
    assert nodes_of(cluster.view()) == [*((n, p, "") for n, p in OLD), ("workers-provisioning-1", "provisioning", "")]
    cluster.register(name)
    state = cluster.wait(lambda s: s.has_node(name))
    # the hook has not ended: the Node is listed, and it is the provisioning (no placeholder beside it)
    assert nodes_of(state) == [*((n, p, "") for n, p in OLD), ("workers-new-1", "provisioning", RUNNING)]
    assert (state.node(name).pool, state.node(name).ready, len(state.nodes_in("workers"))) == ("workers", True, 3)
    assert cluster.seen(1) is None
    # the hook then names the same Node: it joins as it is, and nothing else changes
    cluster.end(name)
    state = cluster.wait(lambda s: s.node(name).phase == "idle")
    assert [(n.name, n.phase) for n in state.nodes] == [*OLD, ("workers-new-1", "idle")]
    assert all(len(v) == 3 for v in cluster.views)  # never the Node and its placeholder both
    assert [(e.kind, e.action, e.detail) for e in cluster.events] == [
        ("completed", "ProvisionNode in pool/workers zone/a at 1.14.10", "workers-new-1 joined Ready")]
    assert cluster.seen(1) == {"ok": True, "code": 0, "node": "workers-new-1"}


@pytest.mark.parametrize("first", ["workers-new-1", "workers-new-2"], ids=["in-order", "second-first"])
def test_two_provisionings_in_a_pool_each_take_one_node_whichever_registers_first(cluster, first):
    one, two = cluster.provision(), cluster.provision()
    assert (one, two) == ("workers-new-1", "workers-new-2")
    cluster.wait_for([*OLD, ("workers-provisioning-1", "provisioning"), ("workers-provisioning-2", "provisioning")])
    cluster.register(first)
    # the first Node listed takes the oldest placeholder's place, whichever hook made it
    cluster.wait_for(sorted([*OLD, (first, "provisioning")]) + [("workers-provisioning-2", "provisioning")])
    cluster.register(two if first == one else one)
    cluster.wait_for([*OLD, ("workers-new-1", "provisioning"), ("workers-new-2", "provisioning")])
    # the first hook names its Node: if the other provisioning had it, the two change Nodes, still one each
    cluster.end(one)
    state = cluster.wait(lambda s: s.node(one).phase == "idle")
    assert nodes_of(state) == [*((n, p, "") for n, p in OLD), ("workers-new-1", "idle", ""),
                               ("workers-new-2", "provisioning", RUNNING)]
    cluster.end(two)
    cluster.wait_for([*OLD, ("workers-new-1", "idle"), ("workers-new-2", "idle")])
    assert all(len(v) == 4 for v in cluster.views)
    assert sorted(e.detail for e in cluster.events) == ["workers-new-1 joined Ready", "workers-new-2 joined Ready"]
    assert [cluster.seen(1)["node"], cluster.seen(2)["node"]] == ["workers-new-1", "workers-new-2"]


def test_a_new_node_takes_the_place_of_a_provisioning_in_its_zone_first(cluster):
    one, two = cluster.provision("a"), cluster.provision("b")
    assert (one, two) == ("workers-new-1", "workers-new-2")
    cluster.register(two)  # zone b: the younger provisioning's, though the older one has no Node either
    state = cluster.wait(lambda s: s.has_node(two))
    assert nodes_of(state) == [*((n, p, "") for n, p in OLD), ("workers-new-2", "provisioning", RUNNING),
                               ("workers-provisioning-1", "provisioning", "")]
    assert (state.node("workers-new-2").zone, state.node("workers-provisioning-1").zone) == ("b", "a")
    cluster.register(one)
    cluster.wait_for([*OLD, ("workers-new-1", "provisioning"), ("workers-new-2", "provisioning")])
    assert all(len(v) == 4 for v in cluster.views)


def test_a_failed_hook_whose_node_is_listed_leaves_that_node_failed_for_the_strategy_to_delete(cluster):
    name = cluster.provision()
    cluster.register(name)
    cluster.wait(lambda s: s.has_node(name))
    cluster.end(name, 3, "kubelet never became Ready")
    state = cluster.wait(lambda s: s.node(name).phase != "provisioning")
    # the Node exists and counts as the pool's node; its provisioning failed, as the hook said
    assert nodes_of(state) == [*((n, p, "") for n, p in OLD),
                               ("workers-new-1", "provision-failed", "hook provisionNode exited 3: kubelet never became Ready")]
    assert cluster.seen(1) == {"ok": False, "code": 3, "node": "workers-new-1"}
    assert all(len(v) == 3 for v in cluster.views)
    # cleaning it up deletes the machine (the deleteNode hook) and the Node, as for any node
    assert cluster.port.submit(DeleteNode("clean up", name)).accepted
    cluster.wait_for(OLD)
    assert [(e.kind, e.action, e.detail) for e in cluster.events] == [
        ("completed", "DeleteNode node/workers-new-1", "the Node object is deleted")]


def test_a_failed_hook_without_a_node_leaves_a_failed_placeholder(cluster):
    name = cluster.provision()
    cluster.end(name, 3, "no capacity in zone a")
    state = cluster.wait(lambda s: s.node("workers-provisioning-1").phase != "provisioning")
    assert nodes_of(state)[2:] == [("workers-provisioning-1", "provision-failed",
                                    "hook provisionNode exited 3: no capacity in zone a")]
    assert cluster.port.submit(DeleteNode("clean up", "workers-provisioning-1")).accepted
    assert [(n.name, n.phase) for n in cluster.view().nodes] == OLD
    assert cluster.seen(1) == {"ok": False, "code": 3}


def test_a_resumed_run_shows_each_provisioning_once_as_the_last_one_did(cluster):
    one, two, three = cluster.provision(), cluster.provision(), cluster.provision()
    cluster.register(one)
    cluster.end(one)
    cluster.wait(lambda s: s.has_node(one) and s.node(one).phase == "idle")  # over: its ledger record names its Node
    cluster.register(two)
    cluster.wait(lambda s: s.has_node(two))
    before = [(n.name, n.phase) for n in cluster.view().nodes]
    assert before == [*OLD, ("workers-new-1", "idle"), ("workers-new-2", "provisioning"),
                      ("workers-provisioning-3", "provisioning")]
    cluster.port.close()  # midair stops; the hooks of two and three go on
    cluster.port = cluster.open()
    cluster.port.adopt()
    # workers-new-1 is not the third provisioning's, though it was not there when that one was submitted
    assert [(n.name, n.phase) for n in cluster.view().nodes] == before
    cluster.register(three)
    cluster.wait_for([*OLD, ("workers-new-1", "idle"), ("workers-new-2", "provisioning"),
                      ("workers-new-3", "provisioning")])
    cluster.end(two)
    cluster.end(three)
    cluster.wait_for([*OLD, *((n, "idle") for n in (one, two, three))])
    assert all(len(v) == 5 for v in cluster.views)
    assert [cluster.seen(i)["node"] for i in (1, 2, 3)] == [one, two, three]
    started = [line for line in (cluster.gates.parent / "hooks.log").read_text().splitlines() if line.startswith("start")]
    assert len(started) == 3  # no hook started twice


# -- the pairing rules, on plain records ---------------------------------------------------------


def prov(record_id: int, zone: str = "a", existing=("w-1", "w-2"), **fields) -> lp.Provisioning:
    rec = HookRecord(record_id, "provisionNode", "cmd", "pool", "pool", "1.30.2", zone, existing=existing)
    return replace(lp.start(rec, Resources()), **fields)


LISTED = {"w-1": ("pool", "a"), "w-2": ("pool", "b")}


def pairs(provisionings, listed, brought=frozenset()):
    return [(p.rec.id, p.node) for p in lp.pair(provisionings, {**LISTED, **listed}, brought)]


@pytest.mark.parametrize("provisionings, listed, brought, paired", [
    # the oldest provisioning of the pool takes a new Node; one of the Node's zone first
    ([prov(1), prov(2)], {"n-1": ("pool", "a")}, (), [(1, "n-1"), (2, "")]),
    ([prov(1, "a"), prov(2, "b")], {"n-1": ("pool", "b")}, (), [(1, ""), (2, "n-1")]),
    ([prov(1, "a"), prov(2, "b")], {"n-1": ("pool", "unknown")}, (), [(1, "n-1"), (2, "")]),
    # not a Node that was there when it was submitted, of another pool, or that one that is over brought
    ([prov(1, existing=("w-1", "w-2", "n-1"))], {"n-1": ("pool", "a")}, (), [(1, "")]),
    ([prov(1)], {"n-1": ("other", "a")}, (), [(1, "")]),
    ([prov(1)], {"n-1": ("pool", "a")}, ("n-1",), [(1, "")]),
    # a pairing stays: a Node listed later, though first by name, goes to the next provisioning
    ([prov(1, node="n-2"), prov(2)], {"n-1": ("pool", "a"), "n-2": ("pool", "a")}, (), [(1, "n-2"), (2, "n-1")]),
    # a printed name is final: it takes its Node from the provisioning that had it, which pairs again
    ([prov(1, node="n-2"), prov(2, named="n-2", result=HookResult(True, 0, "n-2"))],
     {"n-1": ("pool", "a"), "n-2": ("pool", "a")}, (), [(1, "n-1"), (2, "n-2")]),
    # a printed name not listed yet: its provisioning waits for it (a placeholder), and takes no other Node
    ([prov(1, named="n-9", result=HookResult(True, 0, "n-9"))], {"n-1": ("pool", "a")}, (), [(1, "")]),
    # a ledger from an older midair does not say what was there: only a printed name pairs
    ([prov(1, existing=None)], {"n-1": ("pool", "a")}, (), [(1, "")]),
    # a failed hook's Node, no longer listed: its placeholder shows the failure, and takes no other Node
    ([prov(1, named="n-1", result=HookResult(False, 3, "boom"))], {"n-2": ("pool", "a")}, (), [(1, "")]),
], ids=["oldest", "its-zone-first", "node-without-zone", "existed", "other-pool", "brought", "stays",
        "printed-name-wins", "printed-not-listed", "old-ledger", "failed"])
def test_which_node_a_provisioning_has(provisionings, listed, brought, paired):
    assert pairs(provisionings, listed, frozenset(brought)) == paired


def test_what_the_view_shows_of_provisionings():
    running, waiting = prov(1, node="n-1"), prov(2)
    failed = prov(3, node="n-3", named="n-3", result=HookResult(False, 3, "boom"))
    joining = prov(4, named="n-9", result=HookResult(True, 0, "n-9"))
    joined = prov(5, node="n-5", named="n-5", result=HookResult(True, 0, "n-5"))
    phases, placeholders = lp.shown([joined, failed, joining, waiting, running])
    assert phases == {"n-1": ("provisioning", RUNNING), "n-3": ("provision-failed", "hook provisionNode exited 3: boom")}
    assert [(n.name, n.pool, n.zone, str(n.kubelet), n.ready, n.phase, n.message) for n in placeholders] == [
        ("pool-provisioning-2", "pool", "a", "1.30.2", False, "provisioning", ""),
        ("pool-provisioning-4", "pool", "a", "1.30.2", False, "provisioning", "joining as n-9")]


@pytest.mark.parametrize("node, result, named, kept", [
    ("n-1", HookResult(True, 0, "n-1"), "n-1", "n-1"),
    ("n-1", HookResult(True, 0, "n-2"), "n-2", ""),  # paired again with the Node it names
    ("n-1", HookResult(True, 0, ""), "n-1", "n-1"),  # no name: the Node it has is its
    ("", HookResult(True, 0, ""), "", ""),  # nothing to follow
    ("n-1", HookResult(False, 3, "boom"), "n-1", "n-1"),  # a failure's last line names no Node
    ("", HookResult(False, 3, "boom"), "", ""),
], ids=["agrees", "names-another", "no-name", "no-name-no-node", "failed-with-node", "failed"])
def test_a_provisioning_whose_hook_ended(node, result, named, kept):
    p = lp.ended(prov(1, node=node), result)
    assert (p.named, p.node, p.result) == (named, kept, result)
