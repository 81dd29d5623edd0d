"""Network volumes and the attach/detach controller.

A zonal volume (``models.storage``) is provisioned in the zone of the node its first pod is
bound to, and from then on its pods may only run in that zone (the scheduler's VolumeZone and
VolumeBinding filters). Before a pod's containers start, its volume must be attached to its
node (``timing.volumeAttach``). A ReadWriteOnce volume is attached to one node at a time: a pod
bound elsewhere meanwhile gets a Multi-Attach error and waits.

The attach/detach controller (kube-controller-manager: it acts only while a leader reaches the
API; kubernetes pkg/controller/volume/attachdetach/reconciler) detaches a volume from a node
once no pod there uses it (``timing.volumeDetach``), but not while the node still reports it
mounted: a kubelet that is up unmounts a volume as soon as its last pod there is gone, while a
node that died, or was deleted with its pods, never reports it unmounted. From such a node,
unhealthy or gone, the controller force-detaches 6 minutes after it first wanted to
(``models.storage.FORCE_DETACH_AFTER_S``), at once from a node tainted out-of-service. Detaches
go before attaches. Shared volumes need neither; local ones are ``sim.world.pods``' business.
"""

from __future__ import annotations

from models.storage import FORCE_DETACH_AFTER_S, MULTI_ATTACH, OUT_OF_SERVICE, ZONAL, Volume, claim_name
from sim.sampling import sample
from sim.world.entities import GONE, SimNode, SimPod
from sim.world.passes import Kick, run_passes

DETACHED, ATTACHING, ATTACHED, DETACHING = "detached", "attaching", "attached", "detaching"


class SimVolume:
    __slots__ = ("name", "workload", "ordinal", "zone", "node", "state", "mounted", "detach_since", "users",
                 "waiters", "reported", "record", "timer_at")

    def __init__(self, name: str, workload, ordinal: int | None):
        self.name = name
        self.workload = workload
        self.ordinal = ordinal
        self.zone: str | None = None
        self.node: SimNode | None = None  # attached (or attaching, or detaching) there
        self.state = DETACHED
        self.mounted = False  # the node reports it in use (MountedByNode)
        self.detach_since: float | None = None  # when the controller first wanted it off its node
        self.users: set[SimPod] = set()  # pods bound to a node that want it
        self.waiters: dict[int, object] = {}  # pod uid -> event fired once it is attached to that pod's node
        self.reported: set[int] = set()  # pods told of a Multi-Attach error
        self.record: Volume | None = None
        self.timer_at: float | None = None  # when the force-detach timer will have the controller look again


class Volumes:
    def __init__(self, world):
        self.world = world
        self.volumes: dict[tuple, SimVolume] = {}
        self.dirty: dict[tuple, SimVolume] = {}
        self.wake = Kick(world.env)
        self.changed = True  # the view's volume records need rebuilding

    def start(self) -> None:
        cp = self.world.cp
        self.world.env.process(run_passes(self.world.env, self.wake, lambda: cp.controllers_available,
                                          cp.when_controllers_available, self._reconcile))

    def declare(self, workloads) -> None:
        """Every zonal claim exists from the start: a StatefulSet's per ordinal, another workload's one."""
        for w in workloads:
            if w.spec.storage is not None and w.spec.storage.kind == ZONAL:
                for ordinal in range(w.spec.replicas) if w.kind == "StatefulSet" else [None]:
                    self._get(w, ordinal)

    def _get(self, w, ordinal: int | None) -> SimVolume:
        key = (w.key, ordinal)
        v = self.volumes.get(key)
        if v is None:
            v = self.volumes[key] = SimVolume(f"{w.spec.namespace}/{claim_name(w.spec.name, ordinal)}", w, ordinal)
        return v

    # -- what pods need -------------------------------------------------------------------
    def claim(self, pod: SimPod) -> SimVolume | None:
        """The zonal volume ``pod`` claims (a StatefulSet's per ordinal; others' one per workload)."""
        w = pod.workload
        if w.spec.storage is None or w.spec.storage.kind != ZONAL:
            return None
        return self._get(w, pod.ordinal if w.kind == "StatefulSet" else None)

    def zone_of(self, pod: SimPod) -> str | None:
        v = self.claim(pod)
        return v.zone if v is not None else None

    def bound(self, pod: SimPod, node: SimNode, instant: bool = False) -> bool:
        """``pod`` was bound to ``node``: its volume is provisioned there if it is new (WaitForFirstConsumer);
        ``instant`` (the cluster as it starts): it is attached and mounted there already, unless it is attached
        to another node (then the pod waits like any other). False: the pod must wait for its volume."""
        v = self.claim(pod)
        if v is None:
            return True
        if v.zone is None:
            v.zone = node.zone
        v.users.add(pod)
        if instant and v.state == DETACHED:
            v.state, v.node, v.mounted = ATTACHED, node, True
            node.volumes.add(v)
        self._touch(v)
        return v.state == ATTACHED and v.node is node

    def ready(self, pod: SimPod):
        """None if ``pod``'s volume is attached to its node (it mounts it now), else an event for when it is."""
        v = self.claim(pod)
        if v is None:
            return None
        if v.state == ATTACHED and v.node is pod.node:
            v.mounted = True
            return None
        ev = v.waiters.get(pod.uid)
        if ev is None or ev.triggered:
            ev = v.waiters[pod.uid] = self.world.env.event()
        self._touch(v)
        return ev

    def left(self, pod: SimPod, node: SimNode | None) -> None:
        """``pod`` is gone from ``node``: its kubelet, if up and staying, unmounts the volume."""
        v = self.claim(pod)
        if v is None:
            return
        v.users.discard(pod)
        v.waiters.pop(pod.uid, None)
        v.reported.discard(pod.uid)
        if node is not None and v.node is node and node.kubelet_up and node.phase != "deleting" \
                and not any(p.node is node for p in v.users):
            v.mounted = False
        self._touch(v)

    def kubelet_up(self, node: SimNode) -> None:
        """A kubelet that starts again cleans up the mounts of pods that are gone."""
        for v in sorted(node.volumes, key=lambda v: v.name):
            if v.mounted and not any(p.node is node for p in v.users):
                v.mounted = False
                self._touch(v)

    def node_gone(self, node: SimNode) -> None:
        for v in list(node.volumes):
            self._touch(v)

    def _touch(self, v: SimVolume) -> None:
        self.dirty[(v.workload.key, v.ordinal)] = v
        v.record = None
        self.changed = True
        self.wake.kick()

    # -- the attach/detach controller -----------------------------------------------------------
    def _reconcile(self) -> None:
        dirty, self.dirty = self.dirty, {}
        for key in sorted(dirty, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
            self._step(dirty[key])

    def _step(self, v: SimVolume) -> None:
        world = self.world
        now = world.env.now
        wanted = {p.node.name for p in v.users if p.state != GONE and p.node is not None}
        if v.state == ATTACHED and v.node.name not in wanted:  # detaches go first
            if v.detach_since is None:
                v.detach_since = now
            node = v.node
            healthy = not node.removed and node.ready
            out_of_service = any(t.key == OUT_OF_SERVICE for t in node.taints) and not node.removed
            expired = now - v.detach_since >= FORCE_DETACH_AFTER_S
            if v.mounted and not (expired and not healthy) and not out_of_service:
                due = v.detach_since + FORCE_DETACH_AFTER_S
                if not healthy and v.timer_at != due:  # look again when the force-detach timer runs out
                    v.timer_at = due
                    world.env.process(self._later(v, due - now))
            else:
                forced = v.mounted
                v.state = DETACHING
                world.env.process(self._detach(v, forced))
        elif v.state == ATTACHED:
            v.detach_since = None
        if v.state == DETACHED:
            waiting = sorted((p for p in v.users if p.uid in v.waiters and p.node is not None), key=lambda p: p.uid)
            if waiting:
                v.state, v.node = ATTACHING, waiting[0].node
                v.node.volumes.add(v)
                world.env.process(self._attach(v))
        for p in sorted(v.users, key=lambda p: p.uid):
            if p.uid in v.waiters and p.node is not None and v.node is not None and v.node is not p.node \
                    and p.uid not in v.reported:
                v.reported.add(p.uid)
                self._multi_attach(v, p)

    def _multi_attach(self, v: SimVolume, pod: SimPod) -> None:
        world = self.world
        others = sorted(p.name for p in v.users if p.node is v.node and p is not pod and p.state != GONE)
        why = (f"Volume is already used by pod(s) {', '.join(others)}" if others else
               "Volume is already exclusively attached to one node and can't be attached to another")
        world.rec.count("multi_attach_errors", workload=pod.workload.key)
        world.rec.event(world.env.now, f"pod {pod.name} on {pod.node.name}: {MULTI_ATTACH} for volume {v.name} "
                                       f"(attached to {v.node.name}): {why}")

    def _later(self, v: SimVolume, delay: float):
        yield self.world.env.timeout(max(0.0, delay))
        self._touch(v)

    def _detach(self, v: SimVolume, forced: bool):
        world = self.world
        node = v.node
        if forced:
            world.rec.event(world.env.now, f"volume {v.name} force-detached from {node.name} after "
                                           f"{FORCE_DETACH_AFTER_S / 60:g} min: the node never reported it unmounted")
        yield world.env.timeout(sample(world.timing.volume_detach, world.rng))
        node.volumes.discard(v)
        v.state, v.node, v.mounted, v.detach_since = DETACHED, None, False, None
        if not node.removed:
            world.touch(node)
        self._touch(v)

    def _attach(self, v: SimVolume):
        world = self.world
        yield world.env.timeout(sample(world.timing.volume_attach, world.rng))
        v.state = ATTACHED
        v.reported.clear()
        if not v.node.removed:
            world.touch(v.node)
        for p in sorted(v.users, key=lambda p: p.uid):
            ev = v.waiters.get(p.uid)
            if ev is not None and p.node is v.node:
                del v.waiters[p.uid]
                v.mounted = True
                ev.succeed()
        self._touch(v)

    # -- the view ---------------------------------------------------------------------------------
    def records(self) -> tuple[Volume, ...]:
        out = []
        for (wkey, ordinal), v in sorted(self.volumes.items(), key=lambda kv: (kv[0][0], -1 if kv[0][1] is None
                                                                               else kv[0][1])):
            if v.record is None:
                attached = v.node.name if v.node is not None and v.state in (ATTACHED, DETACHING) else None
                v.record = Volume(v.name, wkey, ZONAL, v.zone, attached, ordinal)
            out.append(v.record)
        self.changed = False
        return tuple(out)
