"""The node lifecycle controller: taint-based eviction from NotReady nodes, rate-limited per zone.

When a node turns NotReady (its kubelet stopped posting for the node-monitor grace period,
or posts NotReady), the controller in kube-controller-manager taints it NoExecute
(``node.kubernetes.io/not-ready`` or ``unreachable``), and the pods that tolerate that
taint only for the default 300 s (the DefaultTolerationSeconds admission plugin) are
evicted when their toleration ends. It runs in the controller-manager: only while a leader
reaches the API. Tainting goes through one queue per zone, each a token bucket of burst 1
(kubernetes pkg/controller/nodelifecycle, ``ComputeZoneState`` and ``setLimiterInZone``):

- a zone is *fully disrupted* when none of its nodes is Ready, *partially disrupted* when
  more than 2 of its nodes and at least ``unhealthyZoneThreshold`` (55%) of them are
  NotReady, and *normal* otherwise;
- a normal or fully disrupted zone taints at ``nodeEvictionRate`` (0.1 nodes per second);
- a partially disrupted zone taints at ``secondaryNodeEvictionRate`` (0.01/s) when it has
  more than ``largeClusterSizeThreshold`` (50) nodes, and not at all when it is smaller;
- while every zone is fully disrupted the controller stops evicting altogether and removes
  the taints it placed (a control plane that lost all its nodes blames itself, not them);
  leaving that mode, NotReady nodes are queued again.

A pod leaves a tainted node when its toleration of the taint ends: its own toleration of
``node.kubernetes.io/not-ready`` (the node posts NotReady) or ``unreachable`` (it stopped
posting), with its ``tolerationSeconds`` or for good, else the 300 s that the
DefaultTolerationSeconds admission plugin gives every pod (``timing.notReadyToleration``);
DaemonSet pods tolerate both for good (kubernetes pkg/controller/tainteviction).

A new limiter starts with its token (client-go's token bucket), so a zone whose state
changes may taint one node at once. The controller judges the zones from one pass over all
nodes' conditions before it taints: nodes that turn NotReady at the same moment count
together.
"""

from __future__ import annotations

from collections import deque

from models.constraints import NO_EXECUTE, NOT_READY, UNREACHABLE, Taint
from models.scheduling import seconds_tolerated
from models.state import NodeLifecycle as LifecycleSettings

EPSILON_S = 1e-6
FULL = "FullDisruption"
PARTIAL = "PartialDisruption"
NORMAL = "Normal"


def zone_state(ready: int, not_ready: int, threshold: float) -> str:
    if ready == 0 and not_ready > 0:
        return FULL
    if not_ready > 2 and not_ready / (ready + not_ready) >= threshold:
        return PARTIAL
    return NORMAL


def zone_rate(state: str, size: int, s: LifecycleSettings) -> float:
    if state == PARTIAL:
        return s.secondary_node_eviction_rate if size > s.large_cluster_size_threshold else 0.0
    return s.node_eviction_rate


class NodeLifecycleController:
    def __init__(self, world, settings: LifecycleSettings = LifecycleSettings()):
        self.world = world
        self.settings = settings
        self.ready: dict[str, int] = {}
        self.not_ready: dict[str, int] = {}
        self.queues: dict[str, deque] = {}
        self.next_token: dict[str, float] = {}
        self.rates: dict[str, float] = {}
        self.tainted: dict[str, int] = {}  # node -> episode it was tainted in
        self.all_disrupted = False
        self._wake: dict[str, object] = {}
        self._running: set[str] = set()
        self.members: set[str] = set()  # nodes with a Node object (registered, not yet deleted)

    # -- what the world tells it -----------------------------------------------------------
    def registered(self, node) -> None:
        """``node`` joined the cluster (a Node object exists)."""
        self.members.add(node.name)
        counts = self.ready if node.ready else self.not_ready
        counts[node.zone] = counts.get(node.zone, 0) + 1
        if not node.ready:
            self._enqueue(node)
        self._changed()

    def deregistered(self, node) -> None:
        if node.name not in self.members:
            return
        self.members.discard(node.name)
        counts = self.ready if node.ready else self.not_ready
        counts[node.zone] -= 1
        self.tainted.pop(node.name, None)
        self._changed()

    def readiness(self, node, ready: bool) -> None:
        """``node`` turned Ready or NotReady (nothing to count before it has registered)."""
        if node.name not in self.members:
            return
        z = node.zone
        self.ready[z] = self.ready.get(z, 0) + (1 if ready else -1)
        self.not_ready[z] = self.not_ready.get(z, 0) + (-1 if ready else 1)
        if ready:
            self.tainted.pop(node.name, None)
        else:
            self._enqueue(node)
        self._changed()

    # -- the zones -----------------------------------------------------------------------
    def state(self, zone: str) -> str:
        return zone_state(self.ready.get(zone, 0), self.not_ready.get(zone, 0), self.settings.unhealthy_zone_threshold)

    def _zones(self) -> list[str]:
        return sorted(z for z in set(self.ready) | set(self.not_ready) if self.ready.get(z, 0) + self.not_ready.get(z, 0))

    def _changed(self) -> None:
        zones = self._zones()
        everything_down = bool(zones) and all(self.state(z) == FULL for z in zones)
        leaving = self.all_disrupted and not everything_down
        if everything_down and not self.all_disrupted:
            self.world.rec.event(self.world.env.now, "node lifecycle: every zone is fully disrupted; no evictions, "
                                                     "and the NoExecute taints are removed")
            self.tainted.clear()  # the taints go: the pods' tolerations stop counting down
        self.all_disrupted = everything_down
        for z in zones:
            rate = 0.0 if everything_down else zone_rate(self.state(z), self.ready.get(z, 0) + self.not_ready.get(z, 0),
                                                         self.settings)
            if rate != self.rates.get(z):
                self.rates[z] = rate
                self.next_token[z] = self.world.env.now  # a new limiter starts with its token
            self._kick(z)
        if leaving:  # NotReady nodes are queued again
            for node in sorted(self.world.nodes.values(), key=lambda n: n.seq):
                if not node.ready and node.name not in self.tainted and node.name in self.members:
                    self._enqueue(node)

    def _enqueue(self, node) -> None:
        q = self.queues.setdefault(node.zone, deque())
        q.append((node, node.episode))
        self._kick(node.zone)

    def _kick(self, zone: str) -> None:
        ev = self._wake.pop(zone, None)
        if ev is not None and not ev.triggered:
            ev.succeed()
        if zone not in self._running and self.queues.get(zone):
            self._running.add(zone)
            self.world.env.process(self._tainter(zone))

    def _tainter(self, zone: str):
        world = self.world
        env = world.env
        q = self.queues[zone]
        try:
            while q:
                # decide after everything else due now, as the controller judges the zones from one pass over
                # every node's condition before it taints any
                yield env.timeout(0)
                node, episode = q[0]
                if node.removed or node.ready or node.episode != episode or node.name in self.tainted:
                    q.popleft()  # Ready again, gone, or already tainted
                    continue
                if not world.cp.controllers_available:
                    yield world.cp.when_controllers_available()
                    continue
                rate = self.rates.get(zone, 0.0)
                if rate <= 0:  # no evictions in this zone now: wait for its state to change
                    self._wake[zone] = ev = env.event()
                    yield ev
                    continue
                wait = self.next_token.get(zone, env.now) - env.now
                if wait > 0:
                    self._wake[zone] = ev = env.event()
                    yield env.any_of([ev, env.timeout(wait)])
                    continue
                q.popleft()
                self.next_token[zone] = env.now + 1.0 / rate
                self.tainted[node.name] = episode
                world.rec.event(env.now, f"node {node.name} tainted NoExecute by the node lifecycle controller")
                env.process(self._evict_after_toleration(node, episode))
        finally:
            self._running.discard(zone)

    def _evict_after_toleration(self, node, episode: int):
        """The taint manager: each pod goes when its toleration of the taint ends (module docstring)."""
        world = self.world
        silent = not (node.alive and node.kubelet_up)
        taint = Taint(UNREACHABLE if silent else NOT_READY, NO_EXECUTE)
        start = world.env.now
        default = world.timing.not_ready_toleration_s

        def pending():
            for pod in node.pods_in_order():
                if pod.workload.kind != "DaemonSet" and pod.state not in ("Terminating", "Gone"):
                    seconds = seconds_tolerated(pod.workload.spec.scheduling.tolerations, taint, default)
                    if seconds is not None:  # DaemonSet pods tolerate the not-ready taints for good
                        yield seconds, pod

        while True:
            due = list(pending())
            if not due:
                return
            wait = min(s for s, _ in due) - (world.env.now - start)
            if wait > EPSILON_S:
                yield world.env.timeout(wait)
            while self.tainted.get(node.name) == episode and not node.removed and not world.cp.controllers_available:
                yield world.cp.when_controllers_available()
            if self.tainted.get(node.name) != episode or node.removed or node.episode != episode:
                return
            elapsed = world.env.now - start + EPSILON_S  # float sums: start + 300 - start may fall short of 300
            for seconds, pod in due:
                if seconds <= elapsed and pod.node is node:
                    world.pods.terminate(pod)
