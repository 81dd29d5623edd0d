"""The pure predicates the world's scheduler, admission and attach/detach controller ask, each against the
upstream rule it follows (models/scheduling.py, models/constraints.py, models/admission.py,
models/strategies/zones.py, models/podspec.py)."""

from dataclasses import replace

import pytest

from models.admission import LEASE_RENEWAL, NODE_REGISTRATION, NODE_STATUS, Request, Webhook, WebhookRule, pod_creation
from models.constraints import NodeRequirement, NodeSelectorTerm, PodAffinityTerm, Scheduling, Taint, Toleration
from models.podspec import scheduling_from_json, scheduling_json
from models.scheduling import (
    Resident,
    affinity_satisfied,
    avoided,
    global_minimum,
    preemption_rank,
    seconds_tolerated,
    select_victims,
    term_namespaces,
    untolerated,
    within_skew,
)
from models.selectors import LabelSelector, Requirement
from models.state import Resources
from models.storage import ZONAL, Volume
from models.strategies.zones import zone_for_new_node
from sim.scenario import load_scenario

GPU = Taint("nvidia.com/gpu", "NoSchedule", "true")


@pytest.mark.parametrize("toleration, tolerates", [
    (Toleration("nvidia.com/gpu", "Equal", "true", "NoSchedule"), True),
    (Toleration("nvidia.com/gpu", "Equal", "false", "NoSchedule"), False),
    (Toleration("nvidia.com/gpu", "Exists"), True),  # any value, any effect
    (Toleration("nvidia.com/gpu", "Exists", effect="NoExecute"), False),
    (Toleration("", "Exists"), True),  # tolerates everything
    (Toleration("dedicated", "Exists"), False),
], ids=["equal", "other-value", "exists-any-effect", "exists-other-effect", "empty-key-exists", "other-key"])
def test_a_toleration_tolerates_a_taint_as_core_v1_does(toleration, tolerates):
    assert toleration.tolerates(GPU) is tolerates


@pytest.mark.parametrize("taints, tolerations, blocking, avoid", [
    ((GPU,), (), GPU, 0),
    ((Taint("spot", "PreferNoSchedule"),), (), None, 1),
    ((Taint("spot", "PreferNoSchedule"), GPU), (Toleration("nvidia.com/gpu", "Exists"),), None, 1),
    ((Taint("gone", "NoExecute"),), (Toleration("gone", "Exists", effect="NoExecute"),), None, 0),
], ids=["no-schedule", "prefer-no-schedule-only-counts", "one-tolerated-one-avoided", "no-execute-tolerated"])
def test_taint_filter_and_score(taints, tolerations, blocking, avoid):
    assert (untolerated(taints, tolerations), avoided(taints, tolerations)) == (blocking, avoid)


UNREACHABLE = Taint("node.kubernetes.io/unreachable", "NoExecute")


@pytest.mark.parametrize("tolerations, seconds", [
    ((), 300.0),
    ((Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=30),), 30.0),
    ((Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=30),
      Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=10)), 10.0),
    ((Toleration(UNREACHABLE.key, "Exists", effect="NoExecute"),), None),
    ((Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=-5),), 0.0),
    ((Toleration("node.kubernetes.io/not-ready", "Exists", effect="NoExecute", toleration_seconds=30),), 300.0),
    # getMinTolerationTime: a toleration with seconds bounds the stay even beside one without
    ((Toleration(operator="Exists"),
      Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=60)), 60.0),
    ((Toleration(UNREACHABLE.key, "Exists", effect="NoExecute"),
      Toleration(UNREACHABLE.key, "Exists", effect="NoExecute", toleration_seconds=0)), 0.0),
], ids=["default-seconds", "own", "shortest-of-several", "for-good", "negative-is-now", "other-key-default",
        "seconds-beat-forever", "zero-beats-forever"])
def test_how_long_a_pod_stays_on_a_tainted_node(tolerations, seconds):
    assert seconds_tolerated(tolerations, UNREACHABLE, 300.0) == seconds


@pytest.mark.parametrize("req, labels, matches", [
    (NodeRequirement("gen", "Gt", ("5",)), {"gen": "6"}, True),
    (NodeRequirement("gen", "Gt", ("5",)), {"gen": "5"}, False),
    (NodeRequirement("gen", "Lt", ("5",)), {"gen": "x"}, False),  # not a number: no match
    (NodeRequirement("gen", "Gt", ("5",)), {}, False),
    (NodeRequirement("zone", "NotIn", ("a",)), {}, True),  # a missing label is not in the set
    (NodeRequirement("zone", "DoesNotExist"), {"zone": "a"}, False),
], ids=["gt", "gt-equal", "lt-not-a-number", "gt-missing", "not-in-missing", "does-not-exist"])
def test_node_selector_requirements(req, labels, matches):
    assert req.matches(labels) is matches


def test_an_empty_node_selector_term_matches_no_node_and_bad_requirements_are_refused():
    assert NodeSelectorTerm().matches({"zone": "a"}, "n1") is False
    with pytest.raises(ValueError, match="operator Gt needs exactly one value, a whole number"):
        NodeRequirement("gen", "Gt", ("five",))


@pytest.mark.parametrize("counts, domains, min_domains, max_skew, in_domain, me, allowed", [
    ([1, 1, 0], 3, None, 1, 0, True, True),
    ([1, 1, 0], 3, None, 1, 1, True, False),  # 1 + 1 - 0 > 1
    ([1, 1], 2, 3, 1, 1, True, False),  # fewer domains than minDomains: the minimum counts as 0
    ([2, 2], 2, None, 1, 2, True, True),
    ([2, 2], 2, None, 1, 2, False, True),  # a pod its own selector misses does not count itself
], ids=["emptiest-zone", "past-max-skew", "min-domains", "even", "not-self-matching"])
def test_topology_spread_skew(counts, domains, min_domains, max_skew, in_domain, me, allowed):
    assert within_skew(max_skew, in_domain, me, global_minimum(counts, domains, min_domains)) is allowed


@pytest.mark.parametrize("in_domain, anywhere, itself, ok", [
    ([1], True, False, True), ([0], True, True, False), ([0], False, True, True), ([0], False, False, False),
], ids=["a-pod-in-the-domain", "pods-elsewhere-only", "first-of-its-group", "nothing-matches-and-not-itself"])
def test_required_pod_affinity(in_domain, anywhere, itself, ok):
    assert affinity_satisfied(in_domain, anywhere, itself) is ok


@pytest.mark.parametrize("term, namespace, ok", [
    (PodAffinityTerm("zone", LabelSelector()), "shop", True),
    (PodAffinityTerm("zone", LabelSelector()), "data", False),
    (PodAffinityTerm("zone", LabelSelector(), ("data",)), "data", True),
    (PodAffinityTerm("zone", LabelSelector(), namespace_selector=LabelSelector()), "anything", True),
    (PodAffinityTerm("zone", LabelSelector(), namespace_selector=LabelSelector(
        match_expressions=(Requirement("kubernetes.io/metadata.name", "In", ("data",)),))), "data", True),
], ids=["own-namespace", "not-another", "listed", "empty-selector-every-namespace", "by-name-label"])
def test_which_namespaces_an_affinity_term_looks_in(term, namespace, ok):
    assert term_namespaces(term, "shop", namespace) is ok


def resident(name, priority, cpu, allows=True, started=0.0):
    return Resident(name, priority, started, Resources(cpu, 0, 1), allows)


@pytest.mark.parametrize("others, victims, broken", [
    ([resident("a", 0, 3000), resident("b", 0, 500)], ["a"], 0),  # b is reprieved: taking a is enough
    ([resident("a", 0, 1500), resident("b", 10, 1500)], ["b", "a"], 0),
    ([resident("a", 0, 1500, allows=False), resident("b", 0, 2500)], ["b"], 0),  # its budget's pod is spared first
    ([resident("a", 2000, 3500)], None, None),  # nothing of lower priority to take
], ids=["fewest-victims", "both-needed", "budget-spared", "higher-priority-stays"])
def test_preemption_takes_the_fewest_lower_priority_pods(others, victims, broken):
    found = select_victims(Resources(3000, 0, 1), Resources(500, 0, 100), others, priority=1000)
    assert (None if found is None else ([v.key for v in found[0]], found[1])) == (
        None if victims is None else (victims, broken))


def test_preemption_prefers_the_node_whose_victims_cost_least():
    cheap = preemption_rank([resident("a", 0, 1)], 0)
    assert sorted([preemption_rank([resident("a", 0, 1)], 1), preemption_rank([resident("a", 5, 1)], 0), cheap,
                   preemption_rank([resident("a", 0, 1), resident("b", 0, 1)], 0)])[0] == cheap


@pytest.mark.parametrize("rule, request_, matches", [
    (WebhookRule(("CREATE",), ("",), ("pods",)), pod_creation("default", {}), True),
    (WebhookRule(("UPDATE",), ("",), ("pods",)), pod_creation("default", {}), False),
    (WebhookRule(("*",), ("*",), ("*",)), NODE_STATUS, False),  # "*" is every resource, no subresource
    (WebhookRule(("*",), ("*",), ("*/*",)), NODE_STATUS, True),
    (WebhookRule(("*",), ("*",), ("nodes/*",)), NODE_STATUS, True),
    (WebhookRule(("*",), ("*",), ("nodes",), "Namespaced"), NODE_REGISTRATION, False),
    (WebhookRule(("UPDATE",), ("coordination.k8s.io",), ("leases",)), LEASE_RENEWAL, True),
    (WebhookRule(("UPDATE",), ("",), ("leases",)), LEASE_RENEWAL, False),
], ids=["pods-create", "other-operation", "star-no-subresource", "star-star", "subresources", "scope",
        "leases", "leases-core-group"])
def test_webhook_rules_match_as_the_api_server_matches_them(rule, request_, matches):
    assert rule.matches(request_) is matches


@pytest.mark.parametrize("request_, matches", [
    (pod_creation("default", {"app": "web"}), True),
    (pod_creation("kube-system", {"app": "web"}), False),
    (pod_creation("default", {"app": "db"}), False),  # its object selector
    (Request("CREATE", "", "nodes"), True),  # a cluster-scoped object is never skipped for its namespace
], ids=["selected", "namespace-excluded", "object-excluded", "cluster-scoped"])
def test_webhook_namespace_and_object_selectors(request_, matches):
    hook = Webhook("v", rules=(WebhookRule(("CREATE",), ("*",), ("pods", "nodes")),),
                   namespace_selector=LabelSelector(match_expressions=(
                       Requirement("kubernetes.io/metadata.name", "NotIn", ("kube-system",)),)),
                   object_selector=LabelSelector(match_expressions=(Requirement("app", "NotIn", ("db",)),)))
    assert hook.matches(request_) is matches


def test_a_pod_specs_scheduling_fields_read_back_as_written():
    scenario = load_scenario("scenarios/quickstart.yaml", [
        "workloads[name=api].tolerations=[{key: dedicated, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]",
        "workloads[name=api].affinity={podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
        "[{weight: 10, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: api}}}}]}}",
        "workloads[name=api].nodeSelector={disktype: ssd}"])
    for w in scenario.cluster.workloads:
        s = w.scheduling
        assert scheduling_from_json(scheduling_json(s), s.priority, s.preemption_policy) == s, w.key
    assert scheduling_from_json({}) == Scheduling()


def test_a_new_node_goes_where_the_next_volume_to_move_lives():
    cluster = load_scenario("scenarios/quickstart.yaml").cluster
    pool = cluster.pool("stateful")
    nodes = list(cluster.nodes_in("stateful"))
    target = max(n.kubelet for n in nodes).add_minors(2)
    on_c = replace(cluster, volumes=(Volume("default/data-db-0", "default/db", ZONAL, "c", "stateful-3", 0),))
    assert zone_for_new_node(on_c, pool, target, nodes, []) == (
        "c", "zone c: volume default/data-db-0 on stateful-3 can only be attached in that zone")
    assert zone_for_new_node(on_c, pool, target, nodes, ["c"]) == ("", "")  # one is on its way there already
    assert zone_for_new_node(cluster, pool, target, nodes, []) == ("", "")  # no volume: the cloud balances
