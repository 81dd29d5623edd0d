"""Add-on rollouts: kube-proxy (a DaemonSet) node by node, CoreDNS (a Deployment) as its controller rolls it.

kube-proxy's DaemonSet rolls one node at a time (maxUnavailable 1, the DaemonSet
default); each node's kube-proxy restarts in the pod start-up time. CoreDNS is the
Deployment kubeadm installs, ``rollingUpdate: {maxUnavailable: 1}`` with maxSurge at its
default 25% (kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go), rolled as the
Deployment controller rolls it (pkg/controller/deployment/rolling.go): new pods while the
pods not terminating stay within replicas + maxSurge, old ones terminated while replicas -
maxUnavailable stay available (unavailable old ones first, within what the roll can spare).
Both need the API and a controller-manager leader, and wait for them.
"""

from __future__ import annotations

from models.state import DELETING, IDLE, PROVISION_FAILED, UPGRADING
from sim.sampling import sample
from sim.world.entities import GONE, TERMINATING


class AddonOps:
    def __init__(self, world, addons: dict):
        self.world = world
        self.addons = addons  # name -> mutable dict(version, flavor, healthy, phase)

    def upgrade(self, name: str, version) -> None:
        addon = self.addons[name]
        addon["phase"] = UPGRADING
        self.world.touch_control_plane()
        runner = self._kube_proxy if name == "kube-proxy" else self._coredns if name == "coredns" else self._instant
        self.world.env.process(runner(addon, version))

    def node_ready(self, node) -> None:
        """A node (back) in service with an old kube-proxy: the DaemonSet replaces its pod."""
        proxy = self.addons.get("kube-proxy")
        if proxy is not None and proxy["phase"] == IDLE and node.kube_proxy < proxy["version"]:
            self.world.env.process(self._catch_up(node, proxy["version"]))

    def _catch_up(self, node, version):
        yield from self._wait_for_controllers()
        yield self.world.env.timeout(sample(self.world.timing.pod_startup, self.world.rng))
        if not node.removed and node.kube_proxy < version:
            self.world.set_node_versions(node, kube_proxy=version)

    def _wait_for_controllers(self):
        cp = self.world.cp
        while not cp.controllers_available:
            yield cp.when_controllers_available()

    def _done(self, addon, version) -> None:
        addon["version"] = version
        addon["phase"] = IDLE
        self.world.touch_control_plane()

    def _instant(self, addon, version):
        yield from self._wait_for_controllers()
        self._done(addon, version)

    def _kube_proxy(self, addon, version):
        world = self.world
        addon["version"] = version  # the DaemonSet's template: new nodes start with it
        world.cp_dirty = True  # the view's add-on record (upgrade() has woken the reconcile already)

        def lagging():
            return sorted((n for n in world.nodes.values()
                           if n.kube_proxy < version and n.phase not in (DELETING, PROVISION_FAILED) and n.alive),
                          key=lambda n: n.seq)

        todo = lagging()
        while todo:
            for node in todo:  # one node at a time: the DaemonSet's maxUnavailable 1
                yield from self._wait_for_controllers()
                yield world.env.timeout(sample(world.timing.pod_startup, world.rng))
                if not node.removed and node.kube_proxy < version:
                    world.set_node_versions(node, kube_proxy=version)
            todo = lagging()  # nodes that came back while the rollout went on
        self._done(addon, version)

    def _coredns(self, addon, version):
        world = self.world
        w = world.workloads.get("kube-system/coredns")
        if w is None:
            yield from self._wait_for_controllers()
            self._done(addon, version)
            return
        w.template += 1
        while True:
            yield from self._wait_for_controllers()
            new, old = coredns_pods(w)
            if not old and len(new) >= w.spec.replicas and all(p.ready for p in new):
                break
            while True:  # the controller syncs again at once after scaling either ReplicaSet
                up = coredns_scale_up(w.spec.replicas, len(new), len(old))
                for _ in range(up):
                    fresh = world.pods.new_pod(w, replacement=False)
                    world.sched.enqueue(fresh)
                    new.append(fresh)
                down = coredns_scale_down(w.spec.replicas, new, old)
                for pod in down:
                    world.pods.terminate(pod)
                    old.remove(pod)
                if not up and not down:
                    break
            yield world.env.timeout(1.0)  # (it syncs again when a pod changes: looked at every second)
        self._done(addon, version)


COREDNS_MAX_SURGE_PERCENT = 25  # the Deployment default, which kubeadm's CoreDNS manifest keeps
COREDNS_MAX_UNAVAILABLE = 1  # kubeadm's CoreDNS manifest: rollingUpdate.maxUnavailable


def coredns_pods(w) -> tuple[list, list]:
    """CoreDNS's pods not terminating: those of the new template, and the old ones (a ReplicaSet does not count
    its terminating pods: FilterActivePods)."""
    active = sorted(p for p in w.pods if p.state not in (TERMINATING, GONE))
    return [p for p in active if p.template == w.template], [p for p in active if p.template != w.template]


def coredns_scale_up(replicas: int, new: int, old: int) -> int:
    """New pods to create now (deployment util NewRSNewReplicas: within replicas + maxSurge, rounded up)."""
    surge = -(-replicas * COREDNS_MAX_SURGE_PERCENT // 100)
    return max(0, min(replicas + surge - (new + old), replicas - new))


def coredns_scale_down(replicas: int, new: list, old: list) -> list:
    """Old pods to terminate now (rolling.go reconcileOldReplicaSets): unavailable ones first, at most
    maxScaledDown (all pods less minAvailable less the new ones not yet available); then available ones while
    minAvailable stay available. **Simplification**: the ReplicaSet's own choice among Ready pods
    (controller.ActivePodsWithRanks) is midair's pod order."""
    min_available = replicas - COREDNS_MAX_UNAVAILABLE
    new_unavailable = sum(1 for p in new if not p.ready)
    spare = len(old) + len(new) - min_available - new_unavailable
    if spare <= 0:
        return []
    unhealthy = [p for p in old if not p.ready][:spare]
    healthy = [p for p in old if p.ready]
    room = len(healthy) + sum(1 for p in new if p.ready) - min_available
    return unhealthy + healthy[:max(0, room)]
