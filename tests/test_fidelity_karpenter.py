"""karpenter-drift as Karpenter's disruption controller behaves (docs/fidelity.md, "Autoscalers"):
NodePool disruption budgets, do-not-disrupt, terminationGracePeriod, replacements before drains,
consolidation off or on. Times follow from tests/fidelity_scenario.py: the workers' roll begins at
385 s with five nodes (375 s with three); a replacement joins 60 s after it is launched."""

import pytest

from models.karpenter import DRIFTED, EMPTY, UNDERUTILIZED, Budget, allowed_disruptions, budget_left
from models.quantity import IntOrPercent
from models.schedule import Cron, Window
from tests.fidelity_scenario import run

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
