"""Traffic: the requests each Service sends to its pods, and those that fail while endpoints,
kube-proxy and cloud load balancers catch up with pods and nodes that come and go.

The EndpointSlice controller (in kube-controller-manager: only while the API is up and a
leader exists) publishes each pod's endpoint: ready while the pod is Ready; once the pod
starts terminating, not ready, terminating, and serving while its containers still answer
(until SIGTERM: the preStop hook runs first). Every kube-proxy has the change
``timing.endpointPropagation`` later; a cloud load balancer's targets follow it
``timing.lbDeregistration`` later. The rules for where traffic goes are kube-proxy's and the
load balancer's (``models.traffic``): through kube-proxy (``loadBalancer: false``), to the
ready endpoints, else to terminating ones still serving; through a load balancer with
``externalTrafficPolicy: Cluster``, to its registered pod targets; with ``Local``, to the
nodes whose health check passed, each forwarding to its own endpoints only. A node's health
check fails once it has no ready local endpoint (or its machine is gone); the load balancer
marks it down ``timing.lbHealthCheck`` later, and up again as late.

A request fails when it reaches a pod that no longer answers: a terminating pod past SIGTERM,
a gone pod, a pod whose node crashed or is being deleted, a container restarting; or when
no backend is left. Requests are spread evenly (a fluid model): ``requests_failed`` is
requests per second times the failing share, integrated over time; ``traffic_error_s`` the
time with more than 1% failing (``sim.metrics``).

The world calls ``touch(pod)`` when anything about a pod changes and ``node_changed(node)``
when a machine dies or comes back; the rest happens here, in processes of its own, with its
own random stream (a scenario without services draws nothing).
"""

from __future__ import annotations

from dataclasses import replace

from models.traffic import CLUSTER, Endpoint, Service, failing_share, health_check_passes, proxy_targets
from sim.sampling import sample
from sim.world.entities import GONE, RUNNING, TERMINATING, SimPod


def answers(pod: SimPod, now: float) -> bool:
    """Does the pod's application take a new request now?"""
    node = pod.node
    if node is None or node.removed or not node.alive or pod.state == GONE:
        return False
    if pod.state == RUNNING:
        return True
    return pod.state == TERMINATING and pod.deleted_at is not None and now < sigterm_at(pod)


def sigterm_at(pod: SimPod) -> float:
    """When the kubelet sends SIGTERM: after the preStop hook, cut off by the grace period."""
    spec = pod.workload.spec
    return pod.deleted_at + min(spec.grace_period_s, spec.pre_stop_s)


def published(pod: SimPod, now: float) -> Endpoint | None:
    """The pod's endpoint as the EndpointSlice controller writes it (None: not an endpoint that routes)."""
    if pod.node is None or pod.state == GONE:
        return None
    terminating = pod.state == TERMINATING
    if not terminating and not pod.ready:
        return None
    return Endpoint(pod.node.name, pod.ready and not terminating, answers(pod, now) if terminating else True,
                    terminating)


class ServiceTraffic:
    """One service's endpoints as published, as kube-proxy has them, as its load balancer has them."""

    def __init__(self, spec: Service):
        self.spec = spec
        self.key = spec.key
        self.published: dict[int, Endpoint] = {}
        self.seq: dict[int, int] = {}  # per pod, the number of the last change published
        self.proxy: dict[int, Endpoint] = {}
        self.proxy_seq: dict[int, int] = {}
        self.lb: dict[int, Endpoint] = {}
        self.lb_seq: dict[int, int] = {}
        self.check: dict[str, bool] = {}  # per node: its health check passes (Local)
        self.check_gen: dict[str, int] = {}
        self.up: dict[str, bool] = {}  # per node: the load balancer sends to it (Local)
        self.waiting = False  # for the controllers to come back

    @property
    def local(self) -> bool:
        return self.spec.load_balancer and self.spec.external_traffic_policy != CLUSTER

    @property
    def pod_targets(self) -> bool:
        return self.spec.load_balancer and not self.local


class Traffic:
    def __init__(self, world, services: tuple[Service, ...], rng):
        self.world = world
        self.rng = rng
        self.services = [ServiceTraffic(s) for s in services if s.workload in world.workloads]
        self.by_workload: dict[str, list[ServiceTraffic]] = {}
        for s in self.services:
            self.by_workload.setdefault(s.spec.workload, []).append(s)
            world.rec.track_service(s.key, s.spec.requests_per_second)
        self.pods: dict[int, SimPod] = {}  # every pod of a served workload seen, by uid
        self.dirty: set[str] = set()
        self.scheduled = False
        self.started = False
        self.sigterm_timers: set[int] = set()

    # -- hooks ---------------------------------------------------------------------------
    def touch(self, pod: SimPod) -> None:
        key = pod.workload.key
        if not self.started or key not in self.by_workload:
            return
        self.pods[pod.uid] = pod
        self.dirty.add(key)
        if not self.scheduled:
            self.scheduled = True
            self.world.env.process(self._sync_soon())

    def node_changed(self, node) -> None:
        """A machine died, came back or is going: its pods answer or not, its health checks change."""
        for pod in node.pods_in_order():
            self.touch(pod)
        for s in self.services:
            if s.local:
                self._judge_node(s, node.name)

    # -- the steady state before the upgrade ------------------------------------------------
    def start(self) -> None:
        now = self.world.env.now
        for s in self.services:
            for pod in sorted(self.world.workloads[s.spec.workload].pods):
                self.pods[pod.uid] = pod
                ep = published(pod, now)
                if ep is not None:
                    s.published[pod.uid] = s.proxy[pod.uid] = s.lb[pod.uid] = ep
                    s.seq[pod.uid] = s.proxy_seq[pod.uid] = s.lb_seq[pod.uid] = 0
            if s.local:
                for name in sorted({e.node for e in s.proxy.values()}):
                    s.check[name] = s.up[name] = self._check_passes(s, name)
            self.world.rec.service(now, s.key, self.share(s))
        self.started = True

    # -- the EndpointSlice controller -----------------------------------------------------------
    def _sync_soon(self):
        yield self.world.env.timeout(0)
        self.scheduled = False
        dirty, self.dirty = self.dirty, set()
        for key in sorted(dirty):
            for s in self.by_workload[key]:
                self._sync(s)

    def _sync(self, s: ServiceTraffic) -> None:
        world = self.world
        now = world.env.now
        pods = [p for p in self.pods.values() if p.workload.key == s.spec.workload]
        for pod in pods:  # a terminating pod stops answering at SIGTERM: look again then
            if pod.state == TERMINATING and pod.uid not in self.sigterm_timers and sigterm_at(pod) > now:
                self.sigterm_timers.add(pod.uid)
                world.env.process(self._at_sigterm(pod))
        if world.cp.controllers_available:
            for pod in sorted(pods):
                ep = published(pod, now)
                if ep != s.published.get(pod.uid):
                    self._publish(s, pod.uid, ep)
                if pod.state == GONE:
                    self.pods.pop(pod.uid, None)
        elif not s.waiting:
            s.waiting = True
            world.env.process(self._when_controllers(s))
        self._record(s)

    def _publish(self, s: ServiceTraffic, uid: int, ep: Endpoint | None) -> None:
        if ep is None:
            s.published.pop(uid, None)
        else:
            s.published[uid] = ep
        seq = s.seq[uid] = s.seq.get(uid, 0) + 1
        timing = self.world.timing
        self.world.env.process(self._arrive(s, "proxy", uid, ep, seq, sample(timing.endpoint_propagation, self.rng)))
        if s.pod_targets:
            self.world.env.process(self._arrive(s, "lb", uid, ep, seq, sample(timing.lb_deregistration, self.rng)))

    def _when_controllers(self, s: ServiceTraffic):
        yield self.world.cp.when_controllers_available()
        s.waiting = False
        self._sync(s)

    def _at_sigterm(self, pod: SimPod):
        yield self.world.env.timeout(sigterm_at(pod) - self.world.env.now)
        self.sigterm_timers.discard(pod.uid)
        self.touch(pod)

    # -- kube-proxy and the load balancer catch up ----------------------------------------------
    def _arrive(self, s: ServiceTraffic, view: str, uid: int, ep: Endpoint | None, seq: int, lag: float):
        yield self.world.env.timeout(lag)
        endpoints, seqs = (s.proxy, s.proxy_seq) if view == "proxy" else (s.lb, s.lb_seq)
        if seqs.get(uid, -1) >= seq:
            return  # a later change got there first
        seqs[uid] = seq
        old = endpoints.pop(uid, None)
        if ep is not None:
            endpoints[uid] = ep
        if view == "proxy" and s.local:
            for name in sorted({e.node for e in (old, ep) if e is not None}):
                self._judge_node(s, name)
        self._record(s)

    def _check_passes(self, s: ServiceTraffic, name: str) -> bool:
        node = self.world.nodes.get(name)
        if node is None or node.removed or not node.alive:
            return False  # no kube-proxy answers the health check
        return health_check_passes([e for e in s.proxy.values() if e.node == name])

    def _judge_node(self, s: ServiceTraffic, name: str) -> None:
        passes = self._check_passes(s, name)
        if s.check.get(name, False) == passes:
            return
        s.check[name] = passes
        gen = s.check_gen[name] = s.check_gen.get(name, 0) + 1
        self.world.env.process(self._mark(s, name, passes, gen, sample(self.world.timing.lb_health_check, self.rng)))

    def _mark(self, s: ServiceTraffic, name: str, up: bool, gen: int, lag: float):
        yield self.world.env.timeout(lag)
        if s.check_gen.get(name) != gen:
            return  # the check changed again before the load balancer acted on it
        s.up[name] = up
        self.world.rec.event(self.world.env.now, f"load balancer of service {s.key} marks node {name} "
                                                 f"{'up' if up else 'down'} (its health check "
                                                 f"{'passes' if up else 'fails'})")
        self._record(s)

    # -- what fails ------------------------------------------------------------------------
    def _with_answers(self, endpoints: dict[int, Endpoint], now: float) -> list[Endpoint]:
        out = []
        for uid, e in sorted(endpoints.items()):
            pod = self.pods.get(uid)
            out.append(replace(e, answers=pod is not None and answers(pod, now)))
        return out

    def share(self, s: ServiceTraffic) -> float:
        """The share of the service's requests failing now."""
        now = self.world.env.now
        if s.pod_targets:  # the load balancer sends only to registered targets, not to deregistering ones
            return failing_share([e for e in self._with_answers(s.lb, now) if e.ready and not e.terminating])
        if not s.local:
            return failing_share(proxy_targets(self._with_answers(s.proxy, now)))
        up = sorted(name for name, ok in s.up.items() if ok)
        if not up:
            return 1.0
        endpoints = self._with_answers(s.proxy, now)
        total = 0.0
        for name in up:
            node = self.world.nodes.get(name)
            if node is None or node.removed or not node.alive:
                total += 1.0  # the load balancer still sends to a machine that is gone
                continue
            total += failing_share(proxy_targets([e for e in endpoints if e.node == name]))
        return total / len(up)

    def _record(self, s: ServiceTraffic) -> None:
        self.world.rec.service(self.world.env.now, s.key, self.share(s))
