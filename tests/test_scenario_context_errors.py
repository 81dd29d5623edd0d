"""The scenario's services:, autoscaler:, annotations: and startTime, and the list knobs (poolOrder,
maintenanceWindows, budgets): every error names the file, the line and the field, and says what
would be valid (the lines are those of tests/scenario_text.py's BASE, with the block after it)."""

import pytest

from sim.scenario import InputError, load_scenario_text
from tests.scenario_text import BASE

STRATEGIES = "strategies: [{name: inplace, maxUnavailable: 1}, {name: replace, maxSurge: 1, maxUnavailable: 0}]\n"

CASES = [
    ("service-unknown-workload", "services:\n  - {name: shop, workload: webb, requestsPerSecond: 10}\n",
     "s.yaml:34: services[0].workload: no workload named 'webb' in namespace default; did you mean 'web'? valid: db, "
     "node-exporter, web"),
    ("service-local-without-a-load-balancer",
     "services:\n  - {name: shop, workload: web, requestsPerSecond: 10, externalTrafficPolicy: Local}\n",
     "s.yaml:34: services[0].externalTrafficPolicy: Local applies to traffic from outside the cluster, and Kubernetes "
     "allows it only on a NodePort or LoadBalancer Service; valid: set loadBalancer: true, or externalTrafficPolicy: "
     "Cluster"),
    ("service-twice", "services:\n  - {name: shop, workload: web, requestsPerSecond: 10}\n"
                      "  - {name: shop, workload: db, requestsPerSecond: 10}\n",
     "s.yaml:35: services[1].name: service default/shop is declared twice; names must be unique per namespace"),
    ("service-no-rate", "services:\n  - {name: shop, workload: web, requestsPerSecond: 0}\n",
     "s.yaml:34: services[0].requestsPerSecond: 0 is out of range; expected a number above 0"),
    ("autoscaler-unknown-pool", "autoscaler:\n  pools: [{name: generl}]\n",
     "s.yaml:34: autoscaler.pools[0].name: no node pool named 'generl'; did you mean 'general'? valid: general"),
    ("autoscaler-min-above-max", "autoscaler:\n  pools: [{name: general, minNodes: 8, maxNodes: 7}]\n",
     "s.yaml:34: autoscaler.pools[0]: minNodes 8 is above maxNodes 7; valid: minNodes at most maxNodes"),
    ("autoscaler-scan-0", "autoscaler: {scanInterval: 0s}\n",
     "s.yaml:33: autoscaler.scanInterval: 0s would make the autoscaler spin without time passing; valid: a duration "
     "above 0, e.g. 10s"),
    ("annotation-unknown-key",
     "annotations:\n  nodes: {general-1: {cluster-autoscaler.kubernetes.io/scale-down-disable: 'true'}}\n",
     "s.yaml:34: annotations.nodes.general-1.cluster-autoscaler.kubernetes.io/scale-down-disable: midair does not act "
     "on annotation 'cluster-autoscaler.kubernetes.io/scale-down-disable'; did you mean "
     "'cluster-autoscaler.kubernetes.io/scale-down-disabled'? valid: cluster-autoscaler.kubernetes.io/scale-down-disabled, "
     "karpenter.sh/do-not-disrupt"),
    ("annotation-value-that-means-nothing", "annotations:\n  workloads: {web: {karpenter.sh/do-not-disrupt: 'false'}}\n",
     "s.yaml:34: annotations.workloads.web.karpenter.sh/do-not-disrupt: karpenter.sh/do-not-disrupt: 'false' means "
     "nothing to its controller; valid: 'true'"),
    ("annotation-unknown-node", "annotations:\n  nodes: {general-9: {karpenter.sh/do-not-disrupt: 'true'}}\n",
     "s.yaml:34: annotations.nodes.general-9: no node 'general-9'; did you mean 'general-6'? valid: a node of a pool, "
     "such as general-1"),
    ("annotation-unknown-workload", "annotations:\n  workloads: {shop/web: {karpenter.sh/do-not-disrupt: 'true'}}\n",
     "s.yaml:34: annotations.workloads.shop/web: no workload shop/web; valid: default/db, default/node-exporter, "
     "default/web, kube-system/coredns (NAME for the default namespace, or NAMESPACE/NAME)"),
    ("start-time-without-a-zone", "startTime: '2026-01-05 10:00'\n",
     "s.yaml:33: startTime: '2026-01-05 10:00' has no time zone; write it in UTC with a Z, e.g. '2026-01-05T10:00:00Z'"),
    ("window-bad-schedule",
     "strategies: [{name: inplace, maintenanceWindows: [{schedule: '0 25 * * *', duration: 1h}]}]\n",
     "s.yaml:32: strategies[0].maintenanceWindows[0].schedule: hour 25 is out of range; valid: 0-23"),
    ("window-without-duration", "strategies: [{name: inplace, maintenanceWindows: [{schedule: '0 2 * * SAT'}]}]\n",
     "s.yaml:32: strategies[0].maintenanceWindows[0].duration: missing 'duration': a maintenance window needs a "
     "schedule (cron, UTC) and a duration"),
    ("budget-schedule-without-duration",
     "strategies: [{name: karpenter-drift, budgets: [{nodes: 0, schedule: '0 9 * * *'}]}]\n",
     "s.yaml:32: strategies[0].budgets[0].duration: missing 'duration': a budget's schedule needs a duration (give "
     "both, or neither for a budget always active)"),
    ("budget-unknown-reason", "strategies: [{name: karpenter-drift, budgets: [{nodes: 1, reasons: [Expired]}]}]\n",
     "s.yaml:32: strategies[0].budgets[0].reasons[0]: 'Expired' is not one of the choices; valid: Drifted, Empty, "
     "Underutilized"),
    ("budget-past-100-percent", "strategies: [{name: karpenter-drift, budgets: [{nodes: '150%'}]}]\n",
     "s.yaml:32: strategies[0].budgets[0].nodes: 150% is more than all of the pool's nodes; valid: a count, or 0% to "
     "100%"),
    ("pool-order-unknown-pool", "strategies: [{name: surge, poolOrder: [general, gpu]}]\n",
     "s.yaml:32: strategies[0].poolOrder[1]: no node pool named 'gpu'; valid: general"),
]


@pytest.mark.parametrize("block, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_context_error_names_its_line_and_field(block, message):
    text = BASE.replace(STRATEGIES, "") if block.startswith("strategies") else BASE
    with pytest.raises(InputError) as err:
        load_scenario_text(text + block, "s.yaml")
    assert [str(p) for p in err.value.problems] == [message]
