"""Traffic as kube-proxy, the EndpointSlice controller and cloud load balancers route it
(docs/fidelity.md, "Traffic"): requests fail while a pod that no longer answers is still a
target. Times follow from the constant timings of tests/fidelity_scenario.py and the lags set
here: endpoints reach kube-proxy in 2 s and the load balancer in 10 s; its health check acts
in 20 s. The service sends 30 requests per second to web's three pods, one per node."""

import pytest

from models.traffic import Endpoint, failing_share, health_check_passes, proxy_targets
from tests.fidelity_scenario import events, world

LAGS = ("timing.endpointPropagation=2s", "timing.lbDeregistration=10s", "timing.lbHealthCheck=20s")
IN_CLUSTER = "services=[{name: web, workload: web, requestsPerSecond: 30}]"
CLOUD_LB = "services=[{name: web, workload: web, requestsPerSecond: 30, loadBalancer: true}]"
LOCAL = "services=[{name: web, workload: web, requestsPerSecond: 30, loadBalancer: true, externalTrafficPolicy: Local}]"


def drained(service: str, pre_stop: float):
    """web's pod on general-1 drained at 100 s; what the service lost by 400 s."""
    w = world(service, *LAGS, f"workloads[0].preStopSeconds={pre_stop}")
    w.env.run(until=100)
    w.evictions.drain(w.nodes["general-1"], 0, False)
    w.env.run(until=400)
    w.rec.finish(400)
    return w, w.rec.per_service()["default/web"]


# -- kube-proxy's choice of endpoints (KEP-1669) ---------------------------------------------------

READY = Endpoint("n1", ready=True, serving=True, terminating=False)
DRAINING = Endpoint("n1", ready=False, serving=True, terminating=True)
STOPPED = Endpoint("n1", ready=False, serving=False, terminating=True, answers=False)


@pytest.mark.parametrize("endpoints, targets, passes", [
    ([READY, DRAINING], [READY], True),
    ([DRAINING, STOPPED], [DRAINING], False),
    ([STOPPED], [], False),
    ([], [], False),
], ids=["ready-ones-first", "terminating-serving-when-none-is-ready", "none-serving-drops", "no-endpoint"])
def test_kube_proxy_prefers_ready_endpoints_and_falls_back_to_serving_terminating_ones(endpoints, targets, passes):
    assert (proxy_targets(endpoints), health_check_passes(endpoints)) == (targets, passes)


@pytest.mark.parametrize("targets, share", [
    ([READY, READY, STOPPED], 1 / 3), ([READY], 0.0), ([], 1.0),
], ids=["one-of-three-gone", "all-answer", "no-backend-left"])
def test_the_failing_share_is_the_targets_that_no_longer_answer(targets, share):
    assert failing_share(targets) == share


# -- 1. a drained pod behind a cloud load balancer -----------------------------------------------------


@pytest.mark.parametrize("service, pre_stop, failed, error_s", [
    (CLOUD_LB, 0, 100, 10.0),  # 30 rps x 1/3 of the targets x the 10 s deregistration lag
    (CLOUD_LB, 10, 0, 0.0),  # a preStop that covers the lag: the pod answers until the balancer lets go
    (CLOUD_LB, 5, 50, 5.0),  # half covered
    (IN_CLUSTER, 0, 20, 2.0),  # through kube-proxy: the 2 s until every kube-proxy has the change
    (IN_CLUSTER, 2, 0, 0.0),
], ids=["lb-no-prestop-fails-for-the-deregistration-lag", "lb-prestop-covers-it", "lb-prestop-covers-half",
        "kube-proxy-no-prestop-fails-for-the-propagation-lag", "kube-proxy-prestop-covers-it"])
def test_a_drained_pod_fails_requests_until_its_endpoint_is_gone_unless_a_prestop_covers_the_lag(
        service, pre_stop, failed, error_s):
    _, got = drained(service, pre_stop)
    assert got == {"requests_failed": failed, "traffic_error_s": error_s}


# -- 2. externalTrafficPolicy: Local on a draining node ---------------------------------------------------


@pytest.mark.parametrize("pre_stop, failed, error_s", [
    (0, 220, 22.0),  # the node's one endpoint goes at 100 s; kube-proxy has it at 102; the balancer marks it down at 122
    (10, 120, 12.0),  # it answers (terminating, serving: KEP-1669's fallback) until SIGTERM at 110
    (25, 0, 0.0),  # a preStop longer than propagation plus the health check: nothing fails
], ids=["no-prestop-fails-until-the-health-check-marks-the-node-down", "prestop-shorter-than-the-check",
        "prestop-covers-the-check"])
def test_local_traffic_on_a_draining_node_fails_until_the_health_check_marks_it_down(pre_stop, failed, error_s):
    w, got = drained(LOCAL, pre_stop)
    assert got == {"requests_failed": failed, "traffic_error_s": error_s}
    assert events(w, "marks node general-1 down") == [
        (122.0, "load balancer of service default/web marks node general-1 down (its health check fails)")]


def test_the_replacement_node_of_a_local_service_is_marked_up_after_its_health_check():
    w, _ = drained(LOCAL, 0)
    up = events(w, "marks node")
    # web's replacement pod lands on general-2 or general-3, which are up already: only general-1 changes
    assert [e for _, e in up] == ["load balancer of service default/web marks node general-1 down (its health check "
                                  "fails)"]


# -- 3. the EndpointSlice controller needs the control plane ------------------------------------------------


@pytest.mark.parametrize("sets, failed, error_s", [
    ((), 420, 42.0),  # crash at 110; NotReady at 150 (40 s grace); every kube-proxy has it at 152
    (("cluster.controlPlane.apiservers=1", "faults=[{type: apiserver-crash, at: 100s, duration: 60s}]"), 940, 94.0),
], ids=["api-up-the-endpoint-goes-when-the-node-turns-not-ready", "api-down-it-waits-for-the-controller-manager"])
def test_a_crashed_nodes_endpoints_stay_until_the_controller_manager_removes_them(sets, failed, error_s):
    w = world(IN_CLUSTER, *LAGS, *sets)
    w.env.run(until=110)
    w.node_ops.crash(w.nodes["general-1"], None)
    w.env.run(until=400)
    w.rec.finish(400)
    # with one apiserver down 100-160 s, a controller-manager leader is elected again at 162; having no heartbeat
    # times, its node lifecycle controller counts the 40 s grace period from then ("Missing timestamp for Node.
    # Assuming now as a timestamp", tryUpdateNodeHealth): NotReady at 202, the endpoint reaches kube-proxy at 204
    assert w.rec.per_service()["default/web"] == {"requests_failed": failed, "traffic_error_s": error_s}


def test_no_service_no_traffic_metrics():
    w = world()
    w.env.run(until=50)
    assert (w.rec.per_service(), w.rec.metrics(50, True, None)["requests_failed"]) == ({}, 0)
