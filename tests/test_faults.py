"""Each fault type, injected into the seed's small cluster, and what it does to the metrics."""

import pytest

from sim.scenario import InputError, load_scenario
from sim.simulate import simulate

SEED = 5


def run(label, faults, *sets, keep=True):
    scenario = load_scenario("scenarios/seed-example.yaml", [f"faults={faults}", *sets])
    return simulate(scenario, scenario.strategy(label), SEED, keep_world=keep)


@pytest.fixture(scope="module")
def baseline():
    return {label: run(label, "[]") for label in ("inplace", "replace")}


def fired(r):
    return [text for _, text in r.world.rec.events if text.startswith("fault ")]


def test_inplace_step_failure_once_is_retried_and_the_node_recovers(baseline):
    r = run("inplace", "[{type: inplace-step-failure, probability: 1, target: node/workers-1, limit: 1}]")
    assert (r.completed, r.halted) == (True, None)
    retries = [e for e in r.log if e.reason.startswith("retry 1 of 2")]
    assert [e.action for e in retries] == ["UpgradeNodeInPlace node/workers-1 to 1.16.15"]
    assert retries[0].reason == ("retry 1 of 2 after: in-place upgrade stopped after step 2 (replaceBinaries); "
                                 "the kubelet is half-replaced")
    # the half-upgraded node sat NotReady through the 60 s back-off: db, coredns and node-exporter, one pod each
    # on it, were below their desired Ready for 46.922 s each; CoreDNS also for 5 s of its own rollout, as
    # without the fault (kubeadm's Deployment: maxUnavailable 1)
    assert (baseline["inplace"].metrics["degraded_s"], r.metrics["degraded_s"]) == (5.0, 145.766)
    assert r.workloads["default/db"]["degraded_s"] == r.workloads["default/node-exporter"]["degraded_s"] == 46.922
    # 1285.205 s without the fault: the 60 s back-off and the retried upgrade add 73.088 s
    assert r.metrics["duration_s"] == 1358.293


def test_inplace_step_failure_every_time_halts_by_default():
    r = run("inplace", "[{type: inplace-step-failure, probability: 1, target: node/workers-1}]")
    assert r.halted == ("in-place upgrade of workers-1 failed 3 times: in-place upgrade stopped after step 2 "
                        "(replaceBinaries); the kubelet is half-replaced")
    assert r.world.nodes["workers-1"].phase == "upgrade-failed"


def test_inplace_step_failure_every_time_with_replace_policy_replaces_the_node():
    r = run("inplace", "[{type: inplace-step-failure, probability: 1, target: node/workers-1}]",
            "strategies[0].onInplaceFailure=replace")
    assert (r.completed, r.halted) == (True, None)
    assert sorted(r.world.nodes) == ["workers-2", "workers-3"]
    assert (r.metrics["node_ip_changes"], r.metrics["pods_lost_local_data"]) == (1, 1)
    assert any(e.action == "DeleteNode node/workers-1" for e in r.log)


def test_node_crash_that_never_recovers_is_upgraded_in_place_after_it_fails_out():
    r = run("inplace", "[{type: node-crash, at: 1200s, target: node/workers-2}]")
    assert r.halted == "in-place upgrade of workers-2 failed 3 times: node unreachable during step 1 (stopKubelet)"
    assert r.world.nodes["workers-2"].ready is False
    # its pods are evicted at 1540 s, 300 s (the not-ready toleration) after it turned NotReady: web-2 is
    # the one replacement; its coredns pod had already been replaced by the CoreDNS rollout at 1235 s
    assert r.metrics["pods_rescheduled"] == 1


def test_node_crash_that_comes_back_restarts_its_containers(baseline):
    r = run("inplace", "[{type: node-crash, at: 1200s, target: node/workers-2, duration: 1m}]")
    assert (r.completed, r.halted) == (True, None)
    assert r.metrics["pods_restarted"] == len(r.world.nodes["workers-2"].pods)
    # node-exporter on workers-2, NotReady from 1240 s (40 s grace) until Ready again at 1330.269 s, after its
    # in-place upgrade was retried; web, with its other pod Ready on workers-1, stays at its minAvailable 1
    assert (r.workloads["default/node-exporter"]["degraded_s"], r.metrics["degraded_s"]) == (90.269, 95.269)


def test_provision_failure_once_is_cleaned_up_and_retried():
    r = run("replace", "[{type: provision-failure, probability: 1, limit: 1}]")
    assert (r.completed, r.halted) == (True, None)
    cleanups = [e.action for e in r.log if e.action.startswith("DeleteNode") and "never became a node" in e.reason]
    assert cleanups == ["DeleteNode node/workers-3"]
    assert r.metrics["node_ip_changes"] == 2


@pytest.mark.parametrize("faults, reason", [
    ("[{type: provision-failure, probability: 1}]", "the new machine never became a Ready node (provisioning failed)"),
    ("[{type: quota-exhausted}]", "instance quota exhausted (2 of 2 instances in use)"),
    ("[{type: subnet-exhausted, target: zone/a}]", "subnet-a has no free IP address"),
], ids=["provision-failure", "quota-exhausted", "subnet-exhausted"])
def test_replacement_halts_when_no_node_can_be_added(faults, reason):
    r = run("replace", faults)
    assert r.halted == f"could not add a node to pool workers in 3 attempts in a row: {reason}"
    assert r.metrics["pods_evicted"] == 0  # surge first: nothing was drained before the new node failed


def test_quota_does_not_touch_in_place(baseline):
    r = run("inplace", "[{type: quota-exhausted}]")
    assert r.metrics == baseline["inplace"].metrics


def test_slow_image_pull_lengthens_the_outage(baseline):
    r = run("replace", "[{type: slow-image-pull, factor: 10}]")
    assert r.completed
    # db is down from workers-1's drain (1288.199 s): its pod waits, Pending on a volume whose node is gone,
    # for the operator (1791.648 s), then pulls its image and starts on a new volume; the pull, ten times as
    # long, adds 31.694 s
    outages = (baseline["replace"].workloads["default/db"]["outage_s"], r.workloads["default/db"]["outage_s"])
    assert outages == (534.953, 566.647)


def test_pod_startup_failure_crash_loops_and_lengthens_the_outage(baseline):
    r = run("replace", "[{type: pod-startup-failure, probability: 0.5, target: workload/db}]")
    assert r.completed
    assert r.metrics["pods_restarted"] == len(fired(r)) == 1  # db-0's first start fails, its second succeeds
    # one crash: the kubelet restarts a container at once the first time it exits (no back-off entry yet:
    # doBackOff / flowcontrol.Backoff.IsInBackOffSince), so only the 30 s startup again adds to the outage
    outages = (baseline["replace"].workloads["default/db"]["outage_s"], r.workloads["default/db"]["outage_s"])
    assert outages == (534.953, 564.953)


def test_apiserver_crash_while_the_other_is_upgrading_takes_the_api_down():
    r = run("inplace", "[{type: apiserver-crash, at: 60s, target: apiserver/kube-apiserver-1, duration: 120s}]",
            "timing.controlPlaneInstance=200s")
    assert r.completed
    assert r.metrics["api_downtime_s"] == 120.0  # 60 s to 180 s: kube-apiserver-0 is upgrading, -1 has crashed


def test_lb_listener_misconfigured_hides_upgraded_apiservers():
    r = run("inplace", "[{type: lb-listener-misconfigured, at: 0s, duration: 10m}]", "timing.controlPlaneInstance=200s")
    assert r.completed
    # kube-apiserver-0 is back at 1.15 by 200 s but hidden by the listener; kube-apiserver-1 goes down for
    # its own upgrade right after: no apiserver is reachable from 200 s until the listener is fixed at 600 s
    assert r.metrics["api_downtime_s"] == 400.0


def test_stuck_pdb_blocks_the_drain():
    r = run("replace", "[{type: stuck-pdb, target: workload/web}]")
    assert r.halted == ('drain of workers-1 did not finish within 900s: error when evicting pods/"web-1" -n '
                        '"default": global timeout reached: 15m0s; last refusal: PodDisruptionBudget default/web '
                        "allows no disruption (a stuck-pdb fault); evictions refused with HTTP 429 (default/web: 181) "
                        "(undrainable: fail)")
    # the drain starts at 1288.199 s; eviction is retried every 5 s for 900 s (181 tries); undrainable: fail
    # never forces, so no budget is violated
    m = r.metrics
    assert (m["evictions_refused"], m["pdb_violations"], m["duration_s"]) == (181, 0, 2189.199)


def test_operator_crash_delays_but_completes_without_repeating(baseline):
    r = run("inplace", "[{type: operator-crash, at: 1250s, delay: 120s}]")
    assert r.completed
    assert "the operator crashed; it resumes from its journal in 120s" in [t for _, t in r.world.rec.events]
    base = baseline["inplace"]
    assert sorted(e.action for e in r.log if e.kind == "action") == sorted(e.action for e in base.log if e.kind == "action")
    # workers-1's upgrade, under way at the crash, finishes soon after; the new operator sees it at
    # 1370 s (1250 s + 120 s), so everything after ends 116.026 s later than without the crash
    assert (base.metrics["duration_s"], r.metrics["duration_s"]) == (1285.205, 1400.231)


@pytest.mark.parametrize("fault, message", [
    ("{type: node-crash}", "faults[0]: node-crash needs a trigger: at or rate or probability (probability: per each node operation (drain, in-place upgrade) as it starts)"),
    ("{type: node-crash, at: 5m, rate: 2}", "faults[0]: give one of at, rate, not several"),
    ("{type: quota-exhausted, factor: 3}", "faults[0].factor: quota-exhausted does not take 'factor'; it takes: at, duration"),
    ("{type: stuck-pdb, target: workload/wbe}", "faults[0].target: no workload named 'wbe'; did you mean 'web'? valid: coredns, web, db, node-exporter, kube-system/coredns, default/web, default/db, default/node-exporter"),
    ("{type: apiserver-crash, at: 1m, target: node/workers-1}", "faults[0].target: apiserver-crash cannot target 'node'; valid targets: apiserver/NAME"),
    ("{type: slow-image-pull}", "faults[0]: slow-image-pull needs factor, the multiplier of image pull times (e.g. 5)"),
], ids=["no-trigger", "two-triggers", "foreign-field", "unknown-target", "wrong-target-kind", "missing-factor"])
def test_fault_errors(fault, message):
    with pytest.raises(InputError) as err:
        load_scenario("scenarios/seed-example.yaml", [f"faults=[{fault}]"])
    assert [f"{p.path}: {p.message}" for p in err.value.problems] == [message]


@pytest.mark.parametrize("label, sets", [("replace", ()), ("surge", ("strategies=[{name: surge}]",))])
def test_a_new_node_that_dies_after_joining_is_deleted_and_replaced(label, sets):
    # workers-3, the first new node, is Ready at 1288 s and dies for good at 1350 s: NotReady 40 s
    # later, deleted 300 s after that, and the pool gets another node
    r = run(label, "[{type: node-crash, at: 1350s, target: node/workers-3}]", *sets)
    assert (r.completed, r.halted) == (True, None)
    deleted = [(e.t, e.reason) for e in r.log if e.action == "DeleteNode node/workers-3"]
    assert deleted == [(1690.0, "new node workers-3 stayed NotReady for 300s after joining: delete it and add another")]
    assert sorted(r.world.nodes) == ["workers-4", "workers-5"]


def test_inplace_failure_replaced_through_a_failed_provisioning_completes():
    r = run("inplace", "[{type: inplace-step-failure, probability: 1, limit: 1}, "
                       "{type: provision-failure, probability: 1, limit: 1}]",
            "strategies=[{name: inplace, inplaceRetries: 0, onInplaceFailure: replace}]")
    assert (r.completed, r.halted) == (True, None)
    assert [e.action for e in r.log if e.action.startswith(("DeleteNode", "ProvisionNode"))] == [
        "DeleteNode node/workers-1", "ProvisionNode in pool/workers at 1.16.15",  # workers-3 never joins
        "DeleteNode node/workers-3", "ProvisionNode in pool/workers at 1.16.15"]
    assert sorted(r.world.nodes) == ["workers-2", "workers-4"]


def test_a_crash_while_the_node_rejoins_fails_the_in_place_upgrade():
    # workers-1's upgrade starts at 1237 s; with a ten-minute rejoin it is in step 4 at 1260 s
    r = run("inplace", "[{type: node-crash, at: 1260s, target: node/workers-1}]", "timing.inplace.rejoin=10m",
            "strategies[0].inplaceRetries=0")
    assert r.halted == "in-place upgrade of workers-1 failed once: node unreachable during step 4 (rejoin)"


def test_a_node_turns_notready_one_grace_period_after_its_kubelet_stops():
    r = run("inplace", "[]", "timing.inplace.rejoin=10m")  # the kubelet is not back for ten minutes
    start = next(e.t for e in r.log if e.action.startswith("UpgradeNodeInPlace node/workers-1"))
    not_ready = next(t for t, text in r.world.rec.events if text == "node workers-1 NotReady")
    assert not_ready - start == pytest.approx(40.0, abs=1e-9)  # node-monitor-grace-period before 1.32


def test_no_fault_fires_after_the_upgrade_has_ended(baseline):
    # in-place is done at about 1312 s; a crash scheduled for 1700 s would only measure the fault
    r = run("inplace", "[{type: node-crash, at: 1700s, target: node/workers-1, duration: 5m}]")
    assert fired(r) == []
    assert r.metrics == baseline["inplace"].metrics


def test_a_rate_too_small_for_a_float_per_second_never_fires():
    # found by the generators: 5e-324 per hour is 0.0 per second, which expovariate divides by
    scenario = load_scenario("scenarios/seed-example.yaml", ["faults=[{type: operator-crash, rate: 5e-324}]"])
    r = simulate(scenario, scenario.strategy("inplace"), 1, keep_world=True)
    assert (r.completed, r.halted) == (True, None)
    assert [text for _, text in r.world.rec.events if text.startswith("fault ")] == []


def test_an_operator_back_at_once_that_crashes_after_every_decision_still_lets_time_pass():
    # found by midair fuzz: delay 0s with probability 1 made every decision at the same instant, forever
    scenario = load_scenario("scenarios/seed-example.yaml", ["faults=[{type: operator-crash, probability: 1, delay: 0s}]"])
    r = simulate(scenario, scenario.strategy("inplace"), 1, keep_world=True)
    assert (r.completed, r.halted) == (True, None)
    restarts = [text for _, text in r.world.rec.events if text.startswith("the operator crashed")]
    assert set(restarts) == {"the operator crashed; it resumes from its journal in 2s"}  # one reconcile interval
