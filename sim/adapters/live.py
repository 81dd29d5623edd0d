"""A real cluster behind the ``ClusterPort`` protocol: the Kubernetes API plus the user's hooks.

``observe()`` lists the cluster's objects and translates them into the same records the
simulator produces (``kube_state``). ``submit()`` cordons by patch, drains through the
Eviction subresource, patches add-on images, and starts hooks for what happens on a machine
or in a cloud (``live_operations``). Long operations (drains, hooks) run in the background on
the adapter's own asyncio loop; while they run, the nodes they touch show their phase
(``draining``, ``upgrading``, ...), exactly as in simulation, and when one ends the port
looks again at once. What the port sees between decisions (an operation completed, the API
back after an outage) goes to ``report`` as ``PortEvent``s, for the journal.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

from models.actions import (
    Action,
    Annotate,
    Cordon,
    DeleteNode,
    Drain,
    Halt,
    ProvisionNode,
    Taint,
    Uncordon,
    Untaint,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.state import DRAIN_FAILED, IDLE, UPGRADING, ClusterState, ControlPlane
from sim.adapters.kube_state import build_state
from sim.adapters.live_drain import drain_node
from sim.adapters.live_operations import Operations
from sim.adapters.port import PortEvent, SubmitResult
from sim.scenario.model import LiveSettings

ADDON_OBJECTS = {"kube-proxy": ("DaemonSet", "kube-proxy"), "coredns": ("Deployment", "coredns")}


class LivePort:
    """``make_kube()`` builds the API client (on the port's loop); ``ledger_dir`` keeps the hook runs
    (``hook_ledger``; a temporary directory if None); ``namespace`` limits the view's workloads."""

    def __init__(self, make_kube, settings: LiveSettings, pool_sizes: dict[str, int] | None = None, *,
                 run_hooks: bool = True, log=print, clock=time.time, eviction_retry_s: float = 5.0,
                 reconcile_interval_s: float = 2.0, ledger_dir: str | None = None, report=None,
                 namespace: str | None = None):
        self.settings = settings
        self.pool_sizes = dict(pool_sizes or {})
        self.log = log
        self.clock = clock
        self.retry_s = eviction_retry_s
        self.interval = reconcile_interval_s
        self.namespace = namespace
        self.report = report or (lambda event: None)
        self.last: ClusterState | None = None
        self._wake = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="midair-live", daemon=True)
        self._thread.start()
        self._futures: list = []
        self._drains: dict[str, float] = {}
        self.kube = self._call(self._make(make_kube))
        self.kube.on_wait = self._api_wait
        self.ops = Operations(self, settings, run_hooks, ledger_dir)

    @staticmethod
    async def _make(make_kube):
        return make_kube()

    # -- plumbing ------------------------------------------------------------------------
    def _call(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _on_loop(self, fn, *args):
        """``fn(*args)`` on the port's loop, where the operations change their state, so that a check and
        its change are never interleaved with theirs."""
        async def run():
            return fn(*args)
        return self._call(run())

    def spawn(self, coro) -> None:
        self._futures.append(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def wake(self) -> None:
        """Something changed: the driver looks at the cluster again without waiting out its poll interval."""
        self._wake.set()

    def event(self, kind: str, action: str, detail: str = "", started: float | None = None, component: str = "") -> None:
        now = self.clock()
        self.report(PortEvent(now, kind, action, detail, None if started is None else round(now - started, 3),
                              component))

    def _api_wait(self, kind: str, text: str, seconds: float) -> None:
        self.log(text)
        if kind == "waited":
            self.report(PortEvent(self.clock(), "waited", "API", text, round(seconds, 3)))

    def adopt(self) -> None:
        """Take over the hook runs a stopped run left in the ledger (call it once the run may act)."""
        self.ops.adopt()

    def errors(self) -> list[BaseException]:
        """Exceptions raised by background operations (drains, hooks) so far."""
        return [f.exception() for f in self._futures if f.done() and not f.cancelled() and f.exception() is not None]

    def close(self) -> None:
        for f in self._futures:
            f.cancel()
        try:
            self._call(self.kube.close(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self.ops.close()

    # -- observe -------------------------------------------------------------------------
    async def _fetch(self):
        return await self.kube.list_all(), await self.kube.version()

    def observe(self) -> ClusterState:
        # Take the operations' state before listing: an operation that finishes while the
        # objects are being listed must not be paired with objects from before it finished.
        phases = self.ops.phases()
        objects, version = self._call(self._fetch())
        # a provisioning shows as the listed Node it has brought, or else as a placeholder: paired with this listing
        provisionings = self._on_loop(self.ops.joined, objects.get("Node", []))
        state = self._build(objects, version, phases, provisionings)
        if self._on_loop(self.ops.confirm, state):  # an operation a hook reported done now shows in the cluster
            state = self._build(objects, version, self.ops.phases(), provisionings)
        self.last = state
        return state

    def _build(self, objects, version, phases, provisionings) -> ClusterState:
        (node_ops, instance_ops), (provisioning, placeholders) = phases, provisionings
        state = build_state(objects, pool_label=self.settings.pool_label, pool_sizes=self.pool_sizes,
                            api_version=version, phases={**provisioning, **node_ops}, extra_nodes=placeholders,
                            now=self.clock(), namespace=self.namespace)
        if instance_ops:
            instances = tuple(replace(i, phase=instance_ops[i.name][0], message=instance_ops[i.name][1])
                              if i.name in instance_ops else i for i in state.control_plane.instances)
            state = replace(state, control_plane=ControlPlane(instances))
        return state

    def helm_releases(self):
        """The cluster's deployed Helm 3 releases and what could not be decoded; None when midair may not
        list their Secrets (the optional midair-helm role in deploy/rbac.yaml)."""
        from sim.adapters.helm import LABEL_SELECTOR, deployed_releases

        path = f"/api/v1/namespaces/{self.namespace}/secrets" if self.namespace else "/api/v1/secrets"
        secrets = self._call(self.kube.list_optional(path, "secrets", {"labelSelector": LABEL_SELECTOR}))
        return None if secrets is None else deployed_releases(secrets)

    # -- submit --------------------------------------------------------------------------
    def submit(self, action: Action) -> SubmitResult:
        if isinstance(action, Cordon | Uncordon):
            self._call(self.kube.set_unschedulable(action.node, isinstance(action, Cordon)))
            if isinstance(action, Uncordon):
                self.ops.uncordoned(action.node)
            return SubmitResult(True)
        if isinstance(action, Drain):
            self.ops.node_ops[action.node] = ("draining", "")
            self._drains[action.node] = self.clock()
            self.spawn(drain_node(self.kube, action.node, action.timeout_s, action.force,
                                  self.settings.drain_parallelism, self.retry_s,
                                  lambda phase, msg, a=action: self._drain_status(a, phase, msg),
                                  lambda text: self.log(f"drain {action.node}: {text}"), action.options, self.clock))
            return SubmitResult(True)
        if isinstance(action, Taint | Untaint):
            taint = {"key": action.key, "effect": action.effect, **({"value": action.value} if action.value else {})} \
                if isinstance(action, Taint) else None
            self._call(self.kube.set_taint(action.node, action.key, taint))
            return SubmitResult(True)
        if isinstance(action, Annotate):
            self._call(self.kube.set_annotation(action.node, action.key, action.value))
            return SubmitResult(True)
        if isinstance(action, UpgradeAddon):
            kind, name = ADDON_OBJECTS.get(action.addon, (None, None))
            if kind is None:
                return SubmitResult(False, f"midair does not upgrade the {action.addon} add-on on a live cluster")
            image = self._call(self.kube.set_image_tag(kind, "kube-system", name, action.addon, f"v{action.version}"))
            return SubmitResult(True, f"image {image}")
        if isinstance(action, UpgradeNodeInPlace):
            return self.ops.node_hook("upgradeNode", action, action.node, UPGRADING, version=action.version)
        if isinstance(action, DeleteNode):
            return self.ops.delete(action)
        if isinstance(action, ProvisionNode):
            return self.ops.provision(action)
        if isinstance(action, UpgradeControlPlaneInstance):
            return self.ops.upgrade_instance(action)
        if isinstance(action, Halt):
            return SubmitResult(True)
        return SubmitResult(False, f"the live adapter cannot apply {action.kind}", permanent=True)

    def _drain_status(self, action: Drain, phase: str, message: str) -> None:
        if phase == IDLE:
            self.ops.node_ops.pop(action.node, None)
            started = self._drains.pop(action.node, None)
            if started is not None:
                self.event("completed", action.describe(), message or "drained", started, "node")
            self.wake()
        else:
            self.ops.node_ops[action.node] = (phase, message)
            if phase == DRAIN_FAILED:
                self._drains.pop(action.node, None)
                self.wake()

    def node_values(self, node: str | None = None, **extra) -> dict:
        values = {"node": node or "", "pool": "", "zone": "", "version": "", "instance": ""}
        if node is not None and self.last is not None and self.last.has_node(node):
            n = self.last.node(node)
            values.update(pool=n.pool, zone=n.zone)
        values.update({k: str(v) for k, v in extra.items() if v is not None})
        return values

    # -- time ----------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def changed(self):
        return self._wake

    def drive(self, loop):
        """Run the runner's generator on the wall clock: look again at the wake-up time, every poll
        interval, or as soon as an operation ends, but never sooner than the reconcile interval."""
        try:
            until = next(loop)
            while True:
                errors = self.errors()
                if errors:
                    raise errors[0]
                wait = self.settings.poll_interval_s if until is None else min(until - self.clock(),
                                                                               self.settings.poll_interval_s)
                time.sleep(self.interval)
                if wait > self.interval:
                    self._wake.wait(wait - self.interval)
                self._wake.clear()
                until = loop.send(None)
        except StopIteration as stop:
            return stop.value

