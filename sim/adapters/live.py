"""A real cluster behind the ``ClusterPort`` protocol: the Kubernetes API plus the user's hooks.

``observe()`` lists the cluster's objects and translates them into the same records the
simulator produces (``kube_state``). ``submit()`` cordons by patch, drains through the
Eviction subresource, patches add-on image tags, and runs hooks for what happens on a
machine or in a cloud. Long operations (drains, hooks) run in the background on the
adapter's own asyncio loop; while they run, the nodes they touch show their phase
(``draining``, ``upgrading``, ...), exactly as in simulation.
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
from models.state import (
    DELETING,
    DRAIN_FAILED,
    IDLE,
    PROVISION_FAILED,
    PROVISIONING,
    UPGRADE_FAILED,
    UPGRADING,
    ClusterState,
    ControlPlane,
    Node,
    Resources,
)
from sim.adapters import hooks
from sim.adapters.kube_state import build_state
from sim.adapters.live_drain import drain_node
from sim.adapters.port import SubmitResult
from sim.scenario.model import LiveSettings

ADDON_OBJECTS = {"kube-proxy": ("DaemonSet", "kube-proxy"), "coredns": ("Deployment", "coredns")}


class LivePort:
    def __init__(self, make_kube, settings: LiveSettings, pool_sizes: dict[str, int] | None = None, *,
                 run_hooks: bool = True, log=print, clock=time.time, eviction_retry_s: float = 5.0,
                 reconcile_interval_s: float = 2.0):
        self.settings = settings
        self.pool_sizes = dict(pool_sizes or {})
        self.run_hooks = run_hooks
        self.log = log
        self.clock = clock
        self.retry_s = eviction_retry_s
        self.interval = reconcile_interval_s
        self.node_ops: dict[str, tuple[str, str]] = {}
        self.expected_nodes: dict[str, tuple] = {}  # node -> (kubelet version a hook promised, deadline)
        self.expected_instances: dict[str, tuple] = {}
        self.instance_ops: dict[str, tuple[str, str]] = {}
        self.placeholders: dict[str, Node] = {}
        self._provisioned = 0
        self.last: ClusterState | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="midair-live", daemon=True)
        self._thread.start()
        self._futures: list = []
        self.kube = self._call(self._make(make_kube))

    @staticmethod
    async def _make(make_kube):
        return make_kube()

    # -- plumbing ------------------------------------------------------------------------
    def _call(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _spawn(self, coro) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        self._futures.append(future)

    def errors(self) -> list[BaseException]:
        """Exceptions raised by background operations (drains, hooks) so far."""
        return [f.exception() for f in self._futures if f.done() and f.exception() is not None]

    def close(self) -> None:
        for f in self._futures:
            f.cancel()
        try:
            self._call(self.kube.close(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- observe -------------------------------------------------------------------------
    async def _fetch(self):
        return await self.kube.list_all(), await self.kube.version()

    def observe(self) -> ClusterState:
        # Take the operations' state before listing: an operation that finishes while the
        # objects are being listed must not be paired with objects from before it finished.
        node_ops, instance_ops = dict(self.node_ops), dict(self.instance_ops)
        objects, version = self._call(self._fetch())
        names = {(o.get("metadata") or {}).get("name") for o in objects.get("Node", [])}
        for name, placeholder in list(self.placeholders.items()):
            joined = placeholder.message.startswith("joining as ")
            if joined and placeholder.message.removeprefix("joining as ") in names:
                del self.placeholders[name]
        state = self._build(objects, version, node_ops, instance_ops)
        if self._confirm(state):  # an upgrade a hook reported done now shows in the cluster
            state = self._build(objects, version, dict(self.node_ops), dict(self.instance_ops))
        self.last = state
        return state

    def _build(self, objects, version, node_ops, instance_ops) -> ClusterState:
        state = build_state(objects, pool_label=self.settings.pool_label, pool_sizes=self.pool_sizes,
                            api_version=version, phases=node_ops, extra_nodes=tuple(self.placeholders.values()),
                            now=self.clock())
        if instance_ops:
            instances = tuple(replace(i, phase=instance_ops[i.name][0], message=instance_ops[i.name][1])
                              if i.name in instance_ops else i for i in state.control_plane.instances)
            state = replace(state, control_plane=ControlPlane(instances))
        return state

    def _confirm(self, state: ClusterState) -> bool:
        """A hook's success counts once the cluster shows the new version (or fails after the hook timeout)."""
        changed = False
        now = self.clock()
        for name, (version, deadline) in list(self.expected_nodes.items()):
            have = state.node(name).kubelet if state.has_node(name) else None
            if have is not None and have >= version:
                self.node_ops.pop(name, None)
            elif now >= deadline:
                self.node_ops[name] = (UPGRADE_FAILED, f"the upgradeNode hook succeeded but the kubelet still "
                                                       f"reports {have} after {self.settings.hook_timeout_s:g}s")
            else:
                continue
            del self.expected_nodes[name]
            changed = True
        versions = {i.name: i.version for i in state.control_plane.instances}
        for name, (version, deadline) in list(self.expected_instances.items()):
            if name in versions and versions[name] >= version:
                self.instance_ops.pop(name, None)
            elif now >= deadline:
                self.instance_ops[name] = (UPGRADE_FAILED, f"the upgradeControlPlane hook succeeded but {name} still "
                                                           f"runs {versions.get(name)}")
            else:
                continue
            del self.expected_instances[name]
            changed = True
        return changed

    # -- submit --------------------------------------------------------------------------
    def submit(self, action: Action) -> SubmitResult:
        if isinstance(action, Cordon | Uncordon):
            self._call(self.kube.set_unschedulable(action.node, isinstance(action, Cordon)))
            if isinstance(action, Uncordon) and self.node_ops.get(action.node, ("",))[0] == DRAIN_FAILED:
                del self.node_ops[action.node]  # back in service: the failed drain is over
            return SubmitResult(True)
        if isinstance(action, Drain):
            self.node_ops[action.node] = ("draining", "")
            self._spawn(drain_node(self.kube, action.node, action.timeout_s, action.force,
                                   self.settings.drain_parallelism, self.retry_s,
                                   lambda phase, msg, n=action.node: self._node_status(n, phase, msg),
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
            image = self._call(self.kube.set_image_tag(kind, "kube-system", name, f"v{action.version}"))
            return SubmitResult(True, f"image {image}")
        if isinstance(action, UpgradeNodeInPlace):
            return self._hook_for_node("upgradeNode", action.node, UPGRADING, version=action.version)
        if isinstance(action, DeleteNode):
            if action.node in self.placeholders:
                del self.placeholders[action.node]
                return SubmitResult(True, "removed the failed provisioning")
            return self._hook_for_node("deleteNode", action.node, DELETING, delete=True)
        if isinstance(action, ProvisionNode):
            return self._provision(action)
        if isinstance(action, UpgradeControlPlaneInstance):
            return self._upgrade_instance(action)
        if isinstance(action, Halt):
            return SubmitResult(True)
        return SubmitResult(False, f"the live adapter cannot apply {action.kind}", permanent=True)

    def _node_status(self, node: str, phase: str, message: str) -> None:
        if phase == IDLE:
            self.node_ops.pop(node, None)
        else:
            self.node_ops[node] = (phase, message)

    def _values(self, node: str | None = None, **extra) -> dict:
        values = {"node": node or "", "pool": "", "zone": "", "version": "", "instance": ""}
        if node is not None and self.last is not None and self.last.has_node(node):
            n = self.last.node(node)
            values.update(pool=n.pool, zone=n.zone)
        values.update({k: str(v) for k, v in extra.items() if v is not None})
        return values

    def _command(self, hook: str, values: dict) -> str | None:
        template = self.settings.hook(hook)
        return hooks.render(template, **values) if template else None

    def _hook_for_node(self, hook: str, node: str, phase: str, delete: bool = False, **values) -> SubmitResult:
        command = self._command(hook, self._values(node, **values))
        if command is None and not delete:
            return SubmitResult(False, f"no hook for this: set live.hooks.{hook} in the scenario", permanent=True)
        self.node_ops[node] = (phase, "")

        async def go():
            if command is not None:
                result = await self._run_hook(hook, command)
                if not result.ok:
                    if delete:  # the node stays; the strategy may try again
                        self.node_ops.pop(node, None)
                        self.log(result.message(hook))
                    else:
                        self.node_ops[node] = (UPGRADE_FAILED, result.message(hook))
                    return
            if delete:
                await self.kube.delete_node(node)
                self.node_ops.pop(node, None)
            elif "version" in values and self.run_hooks:
                self.node_ops[node] = (phase, f"waiting for the kubelet to report {values['version']}")
                self.expected_nodes[node] = (values["version"], self.clock() + self.settings.hook_timeout_s)
            else:
                self.node_ops.pop(node, None)

        self._spawn(go())
        return SubmitResult(True, command or "")

    async def _run_hook(self, hook: str, command: str) -> hooks.HookResult:
        if not self.run_hooks:
            self.log(f"would run hook {hook}: {command}")
            return hooks.HookResult(True, 0, "")
        self.log(f"hook {hook}: {command}")
        return await hooks.run_hook(command, self.settings.hook_timeout_s, lambda line: self.log(f"  {hook}| {line}"))

    def _provision(self, action: ProvisionNode) -> SubmitResult:
        zone = ""
        state = self.last or self.observe()
        members = [n for n in state.nodes if n.pool == action.pool]
        zones = sorted({n.zone for n in members})
        if zones:
            zone = min(zones, key=lambda z: (sum(1 for n in members if n.zone == z), z))
        command = self._command("provisionNode", {"node": "", "pool": action.pool, "zone": zone,
                                                  "version": str(action.version), "instance": ""})
        if command is None:
            return SubmitResult(False, "no hook for this: set live.hooks.provisionNode in the scenario", permanent=True)
        self._provisioned += 1
        name = f"{action.pool}-provisioning-{self._provisioned}"
        alloc = members[0].allocatable if members else Resources()
        self.placeholders[name] = Node(name, action.pool, zone, action.version, action.version, alloc,
                                       ready=False, phase=PROVISIONING)

        async def go():
            result = await self._run_hook("provisionNode", command)
            node = self.placeholders.get(name)
            if node is None:
                return
            if result.ok:
                joined = result.last_line
                if joined:
                    self.placeholders[name] = replace(node, message=f"joining as {joined}")
                else:
                    del self.placeholders[name]
            else:
                self.placeholders[name] = replace(node, phase=PROVISION_FAILED, message=result.message("provisionNode"))

        self._spawn(go())
        return SubmitResult(True, command)

    def _upgrade_instance(self, action: UpgradeControlPlaneInstance) -> SubmitResult:
        command = self._command("upgradeControlPlane", {"node": "", "pool": "", "zone": "", "instance": action.instance,
                                                        "version": str(action.version)})
        if command is None:
            return SubmitResult(False, "no hook for this: set live.hooks.upgradeControlPlane in the scenario",
                                permanent=True)
        self.instance_ops[action.instance] = (UPGRADING, "")

        async def go():
            result = await self._run_hook("upgradeControlPlane", command)
            if result.ok and self.run_hooks:
                self.instance_ops[action.instance] = (UPGRADING, f"waiting for it to run {action.version}")
                self.expected_instances[action.instance] = (action.version, self.clock() + self.settings.hook_timeout_s)
            elif result.ok:
                self.instance_ops.pop(action.instance, None)
            else:
                self.instance_ops[action.instance] = (UPGRADE_FAILED, result.message("upgradeControlPlane"))

        self._spawn(go())
        return SubmitResult(True, command)

    # -- time ----------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def changed(self):
        return None

    def drive(self, loop):
        """Run the runner's generator on the wall clock: look again at the wake-up time or every poll interval."""
        try:
            until = next(loop)
            while True:
                errors = self.errors()
                if errors:
                    raise errors[0]
                wake = self.settings.poll_interval_s if until is None else min(until - self.clock(),
                                                                               self.settings.poll_interval_s)
                time.sleep(max(self.interval, wake))
                until = loop.send(None)
        except StopIteration as stop:
            return stop.value
