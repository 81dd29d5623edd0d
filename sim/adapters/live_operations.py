"""The live port's hook-backed operations: in-place node upgrades, node deletions, provisioning
and control-plane instance upgrades, from their start to the moment the cluster shows them.

Each hook run is recorded in a ``HookLedger`` before it starts and marked seen only when its
operation is over (the new version shows, the node is deleted, the new node has joined, or
the hook failed), so a run resumed after ``kill -9`` adopts the hooks the last one left
running or unseen instead of starting them again. A hook's success counts once the cluster
shows it, or fails after ``live.hookTimeout``. Which listed Node a provisioning brings, and
what the view shows of it meanwhile, is ``live_provisioning``'s.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass

from models.actions import DeleteNode, ProvisionNode, UpgradeControlPlaneInstance
from models.state import DELETING, DRAIN_FAILED, UPGRADE_FAILED, UPGRADING, Resources
from models.version import KubeVersion
from sim.adapters import hooks
from sim.adapters import live_provisioning as lp
from sim.adapters.hook_ledger import HookLedger, HookRecord
from sim.adapters.port import SubmitResult


@dataclass(frozen=True)
class Pending:
    """A hook that succeeded, waiting for the cluster to show its result."""

    record: HookRecord
    version: KubeVersion
    deadline: float


class Operations:
    def __init__(self, port, settings, run_hooks: bool, ledger_dir: str | None):
        self.port = port
        self.settings = settings
        self.run_hooks = run_hooks
        self._own_dir = ledger_dir is None and run_hooks
        self.ledger = HookLedger(ledger_dir or tempfile.mkdtemp(prefix="midair-hooks-")) if run_hooks else None
        self.node_ops: dict[str, tuple[str, str]] = {}
        self.instance_ops: dict[str, tuple[str, str]] = {}
        self.expected_nodes: dict[str, Pending] = {}
        self.expected_instances: dict[str, Pending] = {}
        self.provisionings: dict[str, lp.Provisioning] = {}  # by placeholder name: those not joined yet
        self.joining: dict[str, HookRecord] = {}  # a joined node's name -> its provisioning, until it is Ready
        self.brought: set[str] = set()  # the Nodes of provisionings that are over (or joining)
        self._dry = 0

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.ledger.directory, ignore_errors=True)

    def phases(self):
        """The phases of this process's operations on nodes and on control-plane instances (what the view
        shows of provisionings is ``joined``'s)."""
        return dict(self.node_ops), dict(self.instance_ops)

    def uncordoned(self, node: str) -> None:
        if self.node_ops.get(node, ("",))[0] == DRAIN_FAILED:
            del self.node_ops[node]  # back in service: the failed drain is over

    # -- running a hook ------------------------------------------------------------------
    def _command(self, hook: str, values: dict) -> str | None:
        template = self.settings.hook(hook)
        return hooks.render(template, **values) if template else None

    def _record(self, hook: str, command: str, subject: str, action: str, **fields) -> HookRecord:
        if self.ledger is None:
            self._dry += 1
            return HookRecord(self._dry, hook, command, subject, action=action, started=self.port.clock(), **fields)
        return self.ledger.record(hook, command, subject, action=action, now=self.port.clock(), **fields)

    async def _run(self, rec: HookRecord) -> hooks.HookResult:
        if self.ledger is None:
            self.port.log(f"would run hook {rec.hook}: {rec.command}")
            return hooks.HookResult(True, 0, "")
        if self.ledger.started(rec):
            self.port.log(f"hook {rec.hook}: adopting the run started at {rec.started:.0f} by a previous midair")
        else:
            self.port.log(f"hook {rec.hook}: {rec.command}")
        return await self.ledger.run(rec, self.settings.hook_timeout_s,
                                     lambda line: self.port.log(f"  {rec.hook}| {line}"))

    def _seen(self, rec: HookRecord, result: hooks.HookResult, node: str = "") -> None:
        if self.ledger is not None:
            self.ledger.mark_seen(rec, result, node)

    def _done(self, rec: HookRecord, detail: str, node: str = "") -> None:
        self.port.event("completed", rec.action, detail, rec.started, rec.component)
        self._seen(rec, hooks.HookResult(True, 0, ""), node)
        self.port.wake()

    def _failed(self, rec: HookRecord, result: hooks.HookResult, node: str = "") -> None:
        self._seen(rec, result, node)
        self.port.wake()

    def _start(self, rec: HookRecord, finish) -> None:
        async def go():
            result = await self._run(rec)
            finish(rec, result)
            self.port.wake()
        self.port.spawn(go())

    # -- nodes ---------------------------------------------------------------------------
    def node_hook(self, hook: str, action, node: str, phase: str, version: KubeVersion | None = None) -> SubmitResult:
        values = self.port.node_values(node, version=version)
        command = self._command(hook, values)
        if command is None and hook != "deleteNode":
            return SubmitResult(False, f"no hook for this: set live.hooks.{hook} in the scenario", permanent=True)
        self.node_ops[node] = (phase, "")
        if command is None:  # no deleteNode hook: only the Node object goes
            self._start_delete_object(node, action.describe(), None)
            return SubmitResult(True, "")
        rec = self._record(hook, command, node, action.describe(), component="node",
                           version=str(version or ""), zone=values["zone"])
        self._start(rec, self._node_finished)
        return SubmitResult(True, command)

    def delete(self, action: DeleteNode) -> SubmitResult:
        """A placeholder just goes; a provisioning's Node (or a joining one) is deleted as any node, and
        its provisioning is over."""
        p = next((p for p in list(self.provisionings.values()) if action.node in (p.name, p.node)), None)
        if p is not None:
            del self.provisionings[p.name]
            if p.result is not None and p.result.ok:  # (a failed one was seen when it failed, a running one is when it ends)
                self._seen(p.rec, p.result, p.node)
            if not p.node:
                return SubmitResult(True, "removed the failed provisioning")
            self.brought.add(p.node)
        rec = self.joining.pop(action.node, None)
        if rec is not None:
            self._seen(rec, hooks.HookResult(True, 0, ""), action.node)
        return self.node_hook("deleteNode", action, action.node, DELETING)

    def _node_finished(self, rec: HookRecord, result: hooks.HookResult) -> None:
        node = rec.subject
        if not result.ok:
            if rec.hook == "deleteNode":  # the node stays; the strategy may try again
                self.node_ops.pop(node, None)
                self.port.log(result.message(rec.hook))
            else:
                self.node_ops[node] = (UPGRADE_FAILED, result.message(rec.hook))
            self._failed(rec, result)
        elif rec.hook == "deleteNode":
            self._start_delete_object(node, rec.action, rec)
        elif self.run_hooks:
            self.node_ops[node] = (UPGRADING, f"waiting for the kubelet to report {rec.version}")
            self.expected_nodes[node] = Pending(rec, KubeVersion.parse(rec.version),
                                                self.port.clock() + self.settings.hook_timeout_s)
            self.port.spawn(self._look_at(node))
        else:
            self.node_ops.pop(node, None)

    async def _look_at(self, node: str) -> None:
        """Right after its hook: does the node report the version yet? (else the next observe sees to it)"""
        from sim.adapters.kube_translate import version_of

        obj = await self.port.kube.node(node)
        have = version_of(((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion"))
        pending = self.expected_nodes.get(node)
        if pending is not None and have is not None and have >= pending.version:
            del self.expected_nodes[node]
            self.node_ops.pop(node, None)
            self._done(pending.record, f"the kubelet reports {have}")

    def _start_delete_object(self, node: str, action: str, rec: HookRecord | None) -> None:
        async def go():
            await self.port.kube.delete_node(node)
            self.node_ops.pop(node, None)
            if rec is not None:
                self._done(rec, "the Node object is deleted")
            self.port.wake()
        self.port.spawn(go())

    # -- provisioning --------------------------------------------------------------------
    def provision(self, action: ProvisionNode) -> SubmitResult:
        state = self.port.last or self.port.observe()
        members = [n for n in state.nodes if n.pool == action.pool]
        zones = sorted({n.zone for n in members})
        # the zone the strategy names (a zonal volume's: models.strategies.zones), else the pool's emptiest
        zone = action.zone or (min(zones, key=lambda z: (sum(1 for n in members if n.zone == z), z)) if zones else "")
        command = self._command("provisionNode", {"node": "", "pool": action.pool, "zone": zone,
                                                  "version": str(action.version), "instance": ""})
        if command is None:
            return SubmitResult(False, "no hook for this: set live.hooks.provisionNode in the scenario", permanent=True)
        # the pool's Nodes now (not placeholders): none of them is the one this provisioning brings
        existing = tuple(sorted(n.name for n in members if n.name not in self.provisionings))
        rec = self._record("provisionNode", command, action.pool, action.describe(), component="pool",
                           version=str(action.version), zone=zone, existing=existing)
        self._track(rec, members[0].allocatable if members else Resources())
        self._start(rec, self._provisioned)
        return SubmitResult(True, command)

    def _track(self, rec: HookRecord, alloc: Resources) -> None:
        p = lp.start(rec, alloc)
        self.provisionings[p.name] = p

    def _provisioned(self, rec: HookRecord, result: hooks.HookResult) -> None:
        p = self.provisionings.get(lp.placeholder_name(rec))
        if p is None:  # deleted meanwhile
            self._failed(rec, result)
            return
        p = lp.ended(p, result)
        self.provisionings[p.name] = p
        if not result.ok:  # a placeholder, or its Node, shows provision-failed until the strategy deletes it
            self._failed(rec, result, p.named)
        elif not p.named:  # no Node named nor paired: nothing more to follow
            del self.provisionings[p.name]
            self._done(rec, "the provisionNode hook succeeded")

    def joined(self, node_objects: list[dict]) -> tuple[dict[str, tuple[str, str]], tuple]:
        """Pair the provisionings with the listed Nodes (``live_provisioning.pair``); those whose hook has
        succeeded and whose Node is listed have joined, and are followed until it is Ready. What the view
        shows of the others: the phases of their Nodes, and placeholders for those with none."""
        if not self.provisionings:
            return {}, ()
        listed = lp.listed_nodes(node_objects, self.settings.pool_label)
        for p in lp.pair(self.provisionings.values(), listed, self.brought):
            if p.joined:
                del self.provisionings[p.name]
                self.brought.add(p.node)
                self.joining[p.node] = p.rec
            else:
                self.provisionings[p.name] = p
        return lp.shown(self.provisionings.values())

    # -- control plane -------------------------------------------------------------------
    def upgrade_instance(self, action: UpgradeControlPlaneInstance) -> SubmitResult:
        command = self._command("upgradeControlPlane", {"node": "", "pool": "", "zone": "", "instance": action.instance,
                                                        "version": str(action.version)})
        if command is None:
            return SubmitResult(False, "no hook for this: set live.hooks.upgradeControlPlane in the scenario",
                                permanent=True)
        component = ""
        if self.port.last is not None:
            component = next((i.component for i in self.port.last.control_plane.instances if i.name == action.instance), "")
        self.instance_ops[action.instance] = (UPGRADING, "")
        rec = self._record("upgradeControlPlane", command, action.instance, action.describe(), component=component,
                           version=str(action.version))
        self._start(rec, self._instance_finished)
        return SubmitResult(True, command)

    def _instance_finished(self, rec: HookRecord, result: hooks.HookResult) -> None:
        if not result.ok:
            self.instance_ops[rec.subject] = (UPGRADE_FAILED, result.message("upgradeControlPlane"))
            self._failed(rec, result)
        elif self.run_hooks:
            self.instance_ops[rec.subject] = (UPGRADING, f"waiting for it to run {rec.version}")
            self.expected_instances[rec.subject] = Pending(rec, KubeVersion.parse(rec.version),
                                                           self.port.clock() + self.settings.hook_timeout_s)
        else:
            self.instance_ops.pop(rec.subject, None)

    # -- what the cluster shows ----------------------------------------------------------
    def confirm(self, state) -> bool:
        """Count a hook's success once the cluster shows it (or fail it after the hook timeout);
        True when an operation's state changed."""
        changed = False
        now = self.port.clock()
        for name, pending in list(self.expected_nodes.items()):
            have = state.node(name).kubelet if state.has_node(name) else None
            if have is not None and have >= pending.version:
                self.node_ops.pop(name, None)
                self._done(pending.record, f"the kubelet reports {have}")
            elif now >= pending.deadline:
                self.node_ops[name] = (UPGRADE_FAILED, f"the upgradeNode hook succeeded but the kubelet still "
                                                       f"reports {have} after {self.settings.hook_timeout_s:g}s")
                self._failed(pending.record, hooks.HookResult(False, 0, ""))
            else:
                continue
            del self.expected_nodes[name]
            changed = True
        versions = {i.name: i.version for i in state.control_plane.instances}
        for name, pending in list(self.expected_instances.items()):
            if name in versions and versions[name] >= pending.version:
                self.instance_ops.pop(name, None)
                self._done(pending.record, f"{name} runs {versions[name]}")
            elif now >= pending.deadline:
                self.instance_ops[name] = (UPGRADE_FAILED, f"the upgradeControlPlane hook succeeded but {name} still "
                                                           f"runs {versions.get(name)}")
                self._failed(pending.record, hooks.HookResult(False, 0, ""))
            else:
                continue
            del self.expected_instances[name]
            changed = True
        for name, rec in list(self.joining.items()):
            if state.has_node(name) and state.node(name).ready:
                del self.joining[name]
                self._done(rec, f"{name} joined Ready", name)
        return changed

    # -- a resumed run -------------------------------------------------------------------
    def adopt(self) -> None:
        """Take over the hook runs a previous midair left unseen: their nodes and instances show the
        operation again, and their results count as they come (no hook is started twice)."""
        if self.ledger is None:
            return
        self.brought |= self.ledger.nodes_brought()
        for rec in self.ledger.open_records():
            if rec.hook in ("upgradeNode", "deleteNode"):
                self.node_ops[rec.subject] = (UPGRADING if rec.hook == "upgradeNode" else DELETING,
                                              f"resumed: the {rec.hook} hook of the previous run")
                self._start(rec, self._node_finished)
            elif rec.hook == "upgradeControlPlane":
                self.instance_ops[rec.subject] = (UPGRADING, "resumed: the upgradeControlPlane hook of the previous run")
                self._start(rec, self._instance_finished)
            elif rec.hook == "provisionNode":  # its placeholder, or the Node it has brought meanwhile
                self._track(rec, Resources())
                self._start(rec, self._provisioned)
