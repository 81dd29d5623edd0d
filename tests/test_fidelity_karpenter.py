"""karpenter-drift as Karpenter's disruption controller behaves (docs/fidelity.md, "Autoscalers"):
NodePool disruption budgets, do-not-disrupt, terminationGracePeriod, replacements before drains,
consolidation off or on. Times follow from tests/fidelity_scenario.py: the workers' roll begins at
385 s with five nodes (375 s with three); a replacement joins 60 s after it is launched."""

from dataclasses import replace

import pytest

from models.karpenter import DISRUPTED_TAINT, DRIFTED, EMPTY, UNDERUTILIZED, Budget, allowed_disruptions, budget_left
from models.quantity import IntOrPercent
from models.schedule import Cron, Window
from models.state import NO_SCHEDULE, Resources, Taint
from models.storage import ZONAL, Volume
from sim.simulate import build_strategy, plan_for
from tests.fidelity_scenario import run, scenario

FIVE = ("cluster.nodePools[0].count=5", "workloads[0].replicas=5")
START = 1767607200.0  # 2026-01-05 10:00 UTC, the default startTime


def karpenter(knobs: str, *sets):
    return run("k", f"strategies=[{{name: karpenter-drift, label: k, {knobs}}}]", *sets)


def disruptions(r) -> list[tuple[float, float, str]]:
    """(marked, deleted, node) for every node Karpenter disrupted, from the decision log."""
    start, out = {}, []
    for e in r.log:
        node = e.action.split()[1].removeprefix("node/") if e.action.startswith(("Taint", "DeleteNode")) else None
        if e.kind == "action" and e.action.startswith("Taint") and "karpenter.sh/disrupted" in e.action:
            start[node] = e.t
        elif e.kind == "action" and e.action.startswith("DeleteNode"):
            out.append((start.pop(node), e.t, node))
    return out


def most_at_once(spans) -> int:
    edges = sorted([(a, 1) for a, _, _ in spans] + [(b, -1) for _, b, _ in spans])
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


# -- the budgets' arithmetic (nodepool.go GetAllowedDisruptionsByReason) ---------------------------------------------


def pct(v: int) -> IntOrPercent:
    return IntOrPercent(v, percent=True)


NIGHT = Window(Cron.parse("0 22 * * *"), 8 * 3600)  # 22:00 to 06:00 UTC


@pytest.mark.parametrize("budgets, nodes, reason, allowed", [
    ((), 30, DRIFTED, 3),  # the default: 10%
    ((Budget(pct(10)),), 5, DRIFTED, 1),  # 10% of 5 rounds up
    ((Budget(IntOrPercent(3)), Budget(pct(20))), 10, DRIFTED, 2),  # the most restrictive wins
    ((Budget(IntOrPercent(0), reasons=(EMPTY, UNDERUTILIZED)), Budget(IntOrPercent(2))), 10, DRIFTED, 2),
    ((Budget(IntOrPercent(0), reasons=(EMPTY, UNDERUTILIZED)), Budget(IntOrPercent(2))), 10, EMPTY, 0),
    ((Budget(IntOrPercent(0), window=NIGHT), Budget(IntOrPercent(4))), 10, DRIFTED, 4),  # 10:00: not active
], ids=["default-10-percent", "percent-rounds-up", "most-restrictive-wins", "reasons-drift-not-limited",
        "reasons-empty-limited", "inactive-schedule-ignored"])
def test_the_most_restrictive_active_budget_for_the_reason_wins(budgets, nodes, reason, allowed):
    assert allowed_disruptions(budgets, nodes, START, reason) == allowed


def test_nodes_already_disrupting_or_not_ready_use_the_budget_up():
    assert [budget_left((Budget(IntOrPercent(2)),), 10, busy, START, DRIFTED) for busy in (0, 1, 2, 3)] == [2, 1, 0, 0]


# -- drifted nodes within the budgets --------------------------------------------------------------------------------


@pytest.mark.parametrize("budgets, at_once, first", [
    ("[{nodes: 1}]", 1, [(385.0, 449.0, "general-1"), (451.0, 515.0, "general-2")]),
    ("[{nodes: 2}]", 2, [(385.0, 449.0, "general-1"), (385.0, 449.0, "general-2")]),
    # 40% of the pool's initialized nodes, replacements included: 2 of 5, then 3 of 7 once two replacements are Ready
    ("[{nodes: '40%'}]", 3, [(385.0, 449.0, "general-1"), (385.0, 449.0, "general-2")]),
    ("[{nodes: 3}, {nodes: 1, reasons: [Drifted]}]", 1, [(385.0, 449.0, "general-1"), (451.0, 515.0, "general-2")]),
    # a budget of 0 for an hour from 10:00 UTC each day: nothing is disrupted before 11:00
    ("[{nodes: 0, schedule: '0 10 * * *', duration: 1h}, {nodes: 2}]", 2,
     [(3625.0, 3689.0, "general-1"), (3625.0, 3689.0, "general-2")]),
], ids=["budget-1-never-two-at-once", "budget-2", "percent-of-the-nodes-now", "a-reason-specific-budget",
        "scheduled-budget-of-0"])
def test_a_budget_caps_the_drifted_nodes_disrupting_at_once(budgets, at_once, first):
    r = karpenter(f"budgets: {budgets}, consolidation: 'off'", *FIVE)
    spans = disruptions(r)
    assert (r.completed, most_at_once(spans), spans[:2]) == (True, at_once, first)
    assert sorted(n for _, _, n in spans) == [f"general-{k}" for k in range(1, 6)]


def test_a_replacement_is_ready_before_its_drifted_node_is_drained():
    r = karpenter("budgets: [{nodes: 1}], consolidation: 'off'")
    assert [(e.t, e.action, e.reason) for e in r.log if "general-1" in e.action or "for drifted general-1" in e.reason] \
        == [(375.0, "Taint node/general-1 karpenter.sh/disrupted:NoSchedule",
             "drifted: kubelet 1.30.4 is below 1.31.2; Karpenter disrupts it (a replacement is launched first)"),
            (375.0, "ProvisionNode in pool/general at 1.31.2", "replacement for drifted general-1 in pool general"),
            (435.0, "Drain node/general-1", "disrupt general-1 (Drifted): its replacement general-4 is Ready; evict "
                                            "its pods through their budgets"),
            (439.0, "DeleteNode node/general-1", "general-1 is drained (Drifted): Karpenter deletes it")]


# -- do-not-disrupt and terminationGracePeriod ------------------------------------------------------------------


POD_KEEP = "annotations={workloads: {web: {karpenter.sh/do-not-disrupt: 'true'}}}"


@pytest.mark.parametrize("knobs, sets, halted, forced", [
    ("", ("workloads[0].replicas=1", POD_KEEP),
     "pool general: Karpenter will not disrupt the drifted nodes left: pod web-1 on general-1 is annotated "
     "karpenter.sh/do-not-disrupt: \"true\" (with a terminationGracePeriod Karpenter would disrupt it anyway)", []),
    ("", ("annotations={nodes: {general-2: {karpenter.sh/do-not-disrupt: 'true'}}}",),
     "pool general: Karpenter will not disrupt the drifted nodes left: node general-2 is annotated "
     "karpenter.sh/do-not-disrupt: \"true\"", []),
    # the other nodes go first; general-1 is marked at 499 s, its replacement is Ready at 559 s, and 300 s later
    # its drain goes ahead past the annotation
    (", terminationGracePeriod: 5m", ("workloads[0].replicas=1", POD_KEEP), None, [859.0]),
    # budgets that allow no eviction hold each drain until the grace period has run, then it deletes past them
    (", terminationGracePeriod: 5m", ("workloads[0].pdb={minAvailable: 3}", "prechecks=ignore"), None,
     [735.0, 1101.0, 1467.0]),
], ids=["pod-do-not-disrupt-blocks", "node-do-not-disrupt-blocks", "grace-period-disrupts-anyway",
        "grace-period-ends-a-blocked-drain"])
def test_do_not_disrupt_holds_a_node_until_the_termination_grace_period(knobs, sets, halted, forced):
    r = karpenter(f"budgets: [{{nodes: 1}}], consolidation: 'off'{knobs}", *sets)
    assert (r.halted, [e.t for e in r.log if e.action.endswith("(force)")]) == (halted, forced)
    assert r.metrics["pdb_violations"] == (3 if len(forced) == 3 else 0)


# -- consolidation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("consolidation, nodes, evicted", [
    ("'off'", ["general-4", "general-5", "general-6"], 3),  # a static NodePool keeps its size
    ("whenEmpty", ["general-4"], 6),  # drifted nodes whose pods fit elsewhere get no replacement
    ("whenEmptyOrUnderutilized", ["general-4"], 6),
], ids=["off-keeps-the-pool", "when-empty", "when-empty-or-underutilized"])
def test_consolidation_off_keeps_the_pools_size_and_on_packs_the_pods(consolidation, nodes, evicted):
    r = karpenter(f"consolidation: {consolidation}")
    assert (r.completed, sorted(r.world.nodes), r.metrics["pods_evicted"]) == (True, nodes, evicted)


# -- volume topology (karpenter volumetopology.go; existingnode.go, nodeclaim.go CanAdd) ----------------------------

DB = "workloads[2]={name: db, kind: StatefulSet, replicas: 1, storage: {class: zonal, size: 10Gi}, startupSeconds: 5}"
TWO = ("cluster.nodePools[0].count=2", "workloads[0].replicas=2")  # general-1 in zone a, general-2 in b; c is empty
POD = Resources(100, 128 * 2**20, 1)  # each pod's requests (midair's default)
ON_1 = Volume("default/data-db-0", "default/db", ZONAL, "a", "general-1", 0)
PINNED = "zone a: volume default/data-db-0 on general-1 can only be attached in that zone"


def decide_on(consolidation: str, count: int, volumes, memo=None, marked=(), new=(), budget=1):
    """One decision of karpenter-drift's workers phase on a hand-built view: general-1 holds web-1 and db-0, every
    other node one web pod; the nodes named in ``marked`` carry Karpenter's disrupted taint; ``new`` adds (name,
    zone) nodes at the target, Ready and empty."""
    sc = scenario(f"cluster.nodePools[0].count={count}", DB, f"strategies=[{{name: karpenter-drift, label: k, "
                                                             f"budgets: [{{nodes: {budget}}}], consolidation: {consolidation}}}]")
    spec = sc.strategy("k")
    plan = plan_for(sc, spec)
    (workers,) = [p for p in plan.phases if p.kind == "workers"]
    nodes = []
    for n in sc.cluster.nodes:
        pods = 2 if n.name == "general-1" else 1
        taints = (Taint(DISRUPTED_TAINT, NO_SCHEDULE),) if n.name in marked else ()
        nodes.append(replace(n, pods=pods, requested=Resources(POD.cpu_m * pods, POD.memory * pods, pods),
                             reschedulable=Resources(POD.cpu_m * pods, POD.memory * pods, pods), taints=taints))
    template = nodes[-1]
    for name, zone in new:
        nodes.append(replace(template, name=name, zone=zone, kubelet=workers.version, kube_proxy=workers.version,
                             pods=0, requested=Resources(), reschedulable=Resources(), taints=()))
    view = replace(sc.cluster, nodes=tuple(nodes), volumes=volumes, observed_at=400.0)
    return build_strategy(spec).decide_workers(view, plan, workers, memo or {})


def acts(d) -> list[tuple[str, str]]:
    return [(a.describe(), a.reason) for a in d.actions]


@pytest.mark.parametrize("consolidation, count, volumes, provision", [
    # a static pool launches a replacement for every drifted node: in the zone of its zonal volume
    ("'off'", 2, (ON_1,), ("ProvisionNode in pool/general zone/a at 1.31.2",
                           f"replacement for drifted general-1 in pool general; {PINNED}")),
    # without a zonal volume the cloud balances the pool's zones
    ("'off'", 2, (), ("ProvisionNode in pool/general at 1.31.2", "replacement for drifted general-1 in pool general")),
    # web-1 and db-0 fit on general-2 by total room, but db-0 only runs in zone a, where no other node is: a replacement
    ("whenEmpty", 2, (ON_1,), ("ProvisionNode in pool/general zone/a at 1.31.2",
                               f"replacement for drifted general-1 in pool general; {PINNED}")),
    ("whenEmpty", 2, (), None),  # no volume: the pods fit on general-2, no replacement
    ("whenEmpty", 4, (ON_1,), None),  # general-4, in zone a, has room for db-0: no replacement
], ids=["static-pool-volume-zone", "static-pool-no-volume", "dynamic-pool-volume-does-not-fit",
        "dynamic-pool-no-volume-fits", "dynamic-pool-volume-fits-in-its-zone"])
def test_a_replacement_is_launched_in_the_zone_its_nodes_volumes_need(consolidation, count, volumes, provision):
    d = decide_on(consolidation, count, volumes)
    launched = "a replacement is launched first" if provision else "its pods fit on the other nodes"
    assert acts(d) == [("Taint node/general-1 karpenter.sh/disrupted:NoSchedule",
                        f"drifted: kubelet 1.30.4 is below 1.31.2; Karpenter disrupts it ({launched})"),
                       *([provision] if provision else [])]
    cmd = d.memo["karpenter"]["commands"]["general-1"]
    assert (cmd["needs"], cmd["zone"], cmd["because"]) == (
        (True, "a", PINNED) if provision and volumes else (bool(provision), "", ""))


@pytest.mark.parametrize("new, expected", [
    # general-3 (zone c) is Ready first in name order, but only general-4 (zone a) can take db-0
    ((("general-3", "c"), ("general-4", "a")),
     [("Drain node/general-1", "disrupt general-1 (Drifted): its replacement general-4 is Ready; evict its pods "
                               "through their budgets")]),
    # no node in zone a is Ready or on its way: the replacement is launched there again
    ((("general-3", "c"),),
     [("ProvisionNode in pool/general zone/a at 1.31.2",
       f"replacement for drifted general-1 in pool general (again); {PINNED}")]),
], ids=["takes-the-node-in-its-zone", "launches-again-in-its-zone"])
def test_only_a_node_in_the_volumes_zone_replaces_its_node(new, expected):
    first = decide_on("'off'", 2, (ON_1,))
    d = decide_on("'off'", 2, (ON_1,), memo=first.memo, marked=("general-1",), new=new)
    assert (acts(d), d.notes) == (expected, ("pool general: the disruption budgets allow no more drifted node now",))
    assert d.memo["karpenter"]["commands"]["general-1"]["replacement"] == ("general-4" if len(new) == 2 else None)


@pytest.mark.parametrize("consolidation", ["'off'", "whenEmpty"])
def test_a_zonal_volume_pod_is_not_left_pending_by_a_replacement_in_another_zone(consolidation):
    # general-1 (zone a) holds db-0, whose volume lives in a; the cloud would put its replacement in c (no node there
    # yet). It goes to a: marked at 370 s, general-3 joins there at 430 and general-1 is drained; db-0 exits and is
    # bound to general-3 at 433 (a Multi-Attach error while its volume is detached, 433-443), attached by 463, Ready
    # at 472: 42 s without db, none of them unschedulable (it was 95 s, 63 s of them Pending until general-2's
    # replacement came to zone a)
    r = karpenter(f"budgets: [{{nodes: 1}}], consolidation: {consolidation}", DB, *TWO, "timing.volumeAttach=20s",
                  "timing.volumeDetach=10s")
    first = next(e for e in r.log if e.action.startswith("ProvisionNode"))
    assert (first.t, first.action, first.reason) == (
        370.0, "ProvisionNode in pool/general zone/a at 1.31.2",
        f"replacement for drifted general-1 in pool general; {PINNED}")
    (pod,) = r.world.workloads["default/db"].pods
    db = r.world.rec.workloads["default/db"]
    assert (r.completed, pod.node.name, pod.node.zone) == (True, "general-3", "a")
    assert (db.outage_s, db.waited_s["unschedulable_pod_s"], db.waited_s["volume_wait_s"],
            db.counters["multi_attach_errors"]) == (42.0, 0.0, 30.0, 1)
    assert sorted((n.name, n.zone) for n in r.world.nodes.values()) == (
        [("general-3", "a"), ("general-4", "c")] if consolidation == "'off'" else [("general-3", "a")])


def test_a_disruption_that_needs_a_zone_takes_its_replacement_first():
    # db-0's volume is on general-2 (zone b); general-1 needs no zone. Both are marked at once, and of the two new
    # Ready nodes general-3 (b) comes first in name order: general-1, followed first, would take it and leave
    # general-2 none there
    on_2 = Volume("default/data-db-0", "default/db", ZONAL, "b", "general-2", 0)
    first = decide_on("'off'", 2, (on_2,), budget=2)
    assert [(a.describe(), a.reason) for a in first.actions if a.kind == "ProvisionNode"] == [
        ("ProvisionNode in pool/general at 1.31.2", "replacement for drifted general-1 in pool general"),
        ("ProvisionNode in pool/general zone/b at 1.31.2", "replacement for drifted general-2 in pool general; zone b: "
                                                           "volume default/data-db-0 on general-2 can only be attached "
                                                           "in that zone")]
    d = decide_on("'off'", 2, (on_2,), memo=first.memo, marked=("general-1", "general-2"),
                  new=(("general-3", "b"), ("general-4", "c")), budget=2)
    assert [a.describe() + ": " + a.reason.split(": ")[1] for a in d.actions] == [
        "Drain node/general-2: its replacement general-3 is Ready; evict its pods through their budgets",
        "Drain node/general-1: its replacement general-4 is Ready; evict its pods through their budgets"]
