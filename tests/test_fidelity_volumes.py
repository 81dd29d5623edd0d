"""Network volumes as the attach/detach controller moves them (docs/fidelity.md, volumes): a zonal volume
stays in its zone, is detached after its unmount or force-detached 6 minutes after its node is gone, and is
attached to one node at a time (Multi-Attach). Times follow from tests/fidelity_scenario.py with attach 20 s
and detach 10 s; a pod exits in 3 s, pulls its image in 4 s and is Ready 5 s later."""

import pytest

from tests.fidelity_scenario import events, run, world

TIMES = ("timing.volumeAttach=20s", "timing.volumeDetach=10s")
DB = "workloads[2]={name: db, kind: StatefulSet, replicas: 1, storage: {class: zonal, size: 10Gi}, startupSeconds: 5}"
SIX = "cluster.nodePools[0].count=6"  # two nodes per zone


def test_a_zonal_volume_pod_waits_out_the_force_detach_after_its_node_is_deleted_and_stays_in_its_zone():
    w = world(SIX, DB, *TIMES)
    db = w.workloads["default/db"]
    (pod,) = db.pods
    home = pod.node
    assert (home.name, home.zone) == ("general-4", "a")  # the volume was provisioned where the pod first ran
    w.env.run(until=100)
    w.node_ops.crash(home, None)  # the kubelet never reports the volume unmounted
    w.env.run(until=200)
    w.node_ops.delete(home)  # with its pod: the StatefulSet creates db-0 again at once
    w.env.run(until=700)
    (pod,) = db.pods
    assert [e for e in events(w, "data-db-0") if "Multi-Attach" in e[1] or "force" in e[1]] == [
        (200, "pod db-0 on general-1: Multi-Attach error for volume default/data-db-0 (attached to general-4): Volume "
              "is already exclusively attached to one node and can't be attached to another"),
        (560.0, "volume default/data-db-0 force-detached from general-4 after 6 min: the node never reported it "
                "unmounted")]
    # bound at 200 s in zone a (the only zone it may use); force-detached at 560, detached at 570, attached at 590
    assert (pod.node.name, pod.node.zone, pod.ready) == ("general-1", "a", True)
    w.rec.finish(w.env.now)
    assert w.rec.workloads["default/db"].waited_s["volume_wait_s"] == 390.0
    assert w.rec.workloads["default/db"].counters["multi_attach_errors"] == 1


def test_a_drained_zonal_volume_pod_moves_after_its_unmount_without_the_force_detach():
    r = run("replace", DB, *TIMES)
    # drained at 435 s: db-0 exits at 438, the kubelet unmounts and the controller detaches at once (438 to 448);
    # db-0, created again at 438 on the surge node in zone a, reports a Multi-Attach error meanwhile, then waits for
    # the attach (448 to 468)
    assert [t for t, _ in events(r.world, "Multi-Attach")] == [438.0]
    assert events(r.world, "force-detached") == []
    assert (r.metrics["volume_wait_s"], r.metrics["multi_attach_errors"]) == (30.0, 1)
    (pod,) = r.world.workloads["default/db"].pods
    assert (pod.node.name, pod.node.zone) == ("general-4", "a")


def test_two_pods_on_one_read_write_once_volume_get_a_multi_attach_error():
    # a Deployment's pods share its one claim: the second, on another node of the volume's zone, never starts
    w = world(SIX, "workloads[2]={name: files, replicas: 2, storage: {class: zonal}, startupSeconds: 5}")
    w.env.run(until=100)
    assert [(p.name, p.node.name, p.ready) for p in sorted(w.workloads["default/files"].pods)] == [
        ("files-1", "general-4", True), ("files-2", "general-1", False)]
    assert events(w, "Multi-Attach") == [
        (0, "pod files-2 on general-1: Multi-Attach error for volume default/files-data (attached to general-4): "
            "Volume is already used by pod(s) files-1")]
    assert w.rec.counters["multi_attach_errors"] == 1


def test_shared_volumes_need_no_attach_and_follow_their_pods_anywhere():
    r = run("replace", DB.replace("zonal", "shared"), *TIMES)
    assert (r.metrics["volume_wait_s"], r.metrics["multi_attach_errors"], r.world.volumes.volumes) == (0.0, 0, {})


@pytest.mark.parametrize("sets, deleted_at, reason_ends", [
    ((), 439.0, "general-1 is drained: delete it (its replacement runs 1.31.2)"),
    # Cluster API waits for the detach (done at 448 s), forever by default
    (("strategies[1].nodeVolumeDetachTimeout=0",), 448.0, "general-1 is drained: delete it (its replacement runs "
                                                          "1.31.2)"),
    (("strategies[1].nodeVolumeDetachTimeout=5s",), 444.0, "though 1 volume(s) are still attached after "
                                                           "nodeVolumeDetachTimeout 5s"),
], ids=["others-delete-at-once", "capi-waits-for-the-detach", "capi-gives-up-after-its-timeout"])
def test_node_volume_detach_timeout(sets, deleted_at, reason_ends):
    r = run("replace", DB, *TIMES, *sets)
    (entry,) = [e for e in r.log if e.action == "DeleteNode node/general-1"]
    assert (entry.t, entry.reason.endswith(reason_ends)) == (deleted_at, True)


def test_a_new_node_goes_to_the_zone_its_volume_needs():
    # db's volume lives in zone c (on general-3); name order takes general-1 (a) first, and the cloud would put
    # the first surge node in b, the zone with fewest nodes; the strategy asks for c
    zone_c = ("workloads[2].affinity={nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
              "{nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [c]}]}]}}}")
    r = run("replace", "cluster.nodePools[0].count=4", DB, zone_c, *TIMES)
    first = next(e for e in r.log if e.action.startswith("ProvisionNode"))
    assert (first.action, first.reason) == (
        "ProvisionNode in pool/general zone/c at 1.31.2",
        "pool general: 0 of 4 nodes at 1.31.2; maxSurge 1 allows 5 nodes; zone c: volume default/data-db-0 on "
        "general-3 can only be attached in that zone")
    (pod,) = r.world.workloads["default/db"].pods
    assert (pod.node.zone, r.completed) == ("c", True)
