"""Add-on rollouts: kube-proxy (a DaemonSet) node by node, CoreDNS (a Deployment) pod by pod.

kube-proxy's DaemonSet rolls one node at a time (maxUnavailable 1, the DaemonSet
default); each node's kube-proxy restarts in the pod start-up time. CoreDNS rolls as
a Deployment with maxSurge 1: a new pod first, an old one terminated once it is Ready.
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
            old = sorted(p for p in w.pods if p.template != w.template and p.state not in (TERMINATING, GONE))
            if not old:
                break
            yield from self._wait_for_controllers()
            fresh = world.pods.new_pod(w, replacement=False)
            world.sched.enqueue(fresh)
            while not fresh.ready and fresh.state != GONE:
                yield world.env.timeout(1.0)
            world.pods.terminate(old[0])
        self._done(addon, version)
