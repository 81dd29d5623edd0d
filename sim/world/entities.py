"""The world's mutable objects: nodes, pods, workloads and control-plane instances.

They change as simulated time passes; the adapter turns them into frozen
``models.state`` records when a strategy observes the cluster. Each object caches its
record and drops the cache when it changes.
"""

from __future__ import annotations

from operator import attrgetter

from models.state import DAEMONSET, IDLE, Workload
from models.version import KubeVersion

PENDING = "Pending"
STARTING = "Starting"
RUNNING = "Running"
TERMINATING = "Terminating"
GONE = "Gone"


class SimInstance:
    __slots__ = ("name", "component", "version", "running", "healthy", "phase")

    def __init__(self, name: str, component: str, version: KubeVersion, healthy: bool = True):
        self.name = name
        self.component = component
        self.version = version
        self.running = True
        self.healthy = healthy
        self.phase = IDLE


_UID = attrgetter("uid")


class SimNode:
    __slots__ = ("name", "pool", "zone", "kubelet", "kube_proxy", "runtime", "cpu", "memory", "max_pods",
                 "used_cpu", "used_memory", "used_pods", "ip", "alive", "kubelet_up", "ready", "schedulable",
                 "phase", "message", "pods", "created_at", "images", "episode", "seq", "stamp",
                 "record", "removed", "config", "going_down", "quiet_since", "taints", "labels", "volumes", "annotations", "tallied",
                 "_pod_order", "as_recorded", "waited_pods", "waited_cpu", "waited_memory")

    def __init__(self, name, pool, zone, kubelet, kube_proxy, runtime, allocatable, ip, seq, created_at=0.0, config=None,
                 labels=None, taints=()):
        self.name = name
        self.pool = pool
        self.zone = zone
        self.kubelet = kubelet
        self.kube_proxy = kube_proxy
        self.runtime = runtime
        self.cpu, self.memory, self.max_pods = allocatable.cpu_m, allocatable.memory, allocatable.pods
        self.used_cpu = self.used_memory = self.used_pods = 0
        self.ip = ip
        self.alive = True
        self.kubelet_up = True
        self.ready = True
        self.schedulable = True
        self.phase = IDLE
        self.message = ""
        self.pods: set[SimPod] = set()
        self._pod_order: tuple | None = None  # its pods by uid, until one comes or goes
        # its pods a drain waits for (not DaemonSets', not finished: SimWorkload.drained), and their requests
        self.waited_pods = self.waited_cpu = self.waited_memory = 0
        # what its record shows of what rarely changes: (allocatable, labels, annotations), None after a change
        self.as_recorded: tuple | None = None
        self.created_at = created_at
        self.images: set[str] = set()
        self.episode = 0  # bumps on every health change, cancelling stale timers
        self.going_down = False  # a NotReady transition is pending (its grace period runs)
        self.quiet_since = 0.0  # when its kubelet last stopped posting (while going_down)
        self.seq = seq
        self.stamp = 0  # bumps on every capacity or eligibility change (capacity index)
        self.record = None
        self.tallied = None  # (pool, zone, kubelet) it counts under in World.zone_tally, or None
        self.removed = False
        self.config = config
        self.taints: tuple = tuple(taints)  # models.state.Taint records: its pool's, and what strategies add
        self.labels: dict[str, str] = labels if labels is not None else {}
        self.volumes: set = set()  # the SimVolumes attached to it
        self.annotations: dict[str, str] = {}

    def pods_in_order(self) -> tuple:
        """Its pods by uid (what ``sorted(node.pods)`` gives), kept until a pod is bound or leaves."""
        if self._pod_order is None:
            self._pod_order = tuple(sorted(self.pods, key=_UID))
        return self._pod_order

    def add_pod(self, pod: SimPod) -> None:
        if pod not in self.pods:
            self._count_waited(pod, 1)
        self.pods.add(pod)
        self._pod_order = None

    def discard_pod(self, pod: SimPod) -> None:
        if pod in self.pods:
            self._count_waited(pod, -1)
        self.pods.discard(pod)
        self._pod_order = None

    def _count_waited(self, pod: SimPod, by: int) -> None:
        w = pod.workload
        if w.drained:
            r = w.spec.requests
            self.waited_pods += by
            self.waited_cpu += by * r.cpu_m
            self.waited_memory += by * r.memory

    def fits(self, pod: SimPod) -> bool:
        r = pod.workload.spec.requests
        return (self.cpu - self.used_cpu >= r.cpu_m and self.memory - self.used_memory >= r.memory
                and self.max_pods - self.used_pods >= 1)

    @property
    def free_cpu(self) -> int:
        return self.cpu - self.used_cpu


class SimWorkload:
    __slots__ = ("spec", "key", "pods", "ready", "desired", "zone_counts", "template", "volumes", "next_index",
                 "terminating", "record", "budgets", "displaced", "finished", "node_counts", "live_zone", "live_node",
                 "compiled", "priority", "claims", "served", "drained", "sharing")

    def __init__(self, spec: Workload):
        self.spec = spec
        self.key = spec.key
        self.pods: set[SimPod] = set()  # every pod not yet gone
        self.ready = 0
        self.desired = spec.replicas
        self.zone_counts: dict[str, int] = {}
        self.template = 0  # bumps on a rolling update (CoreDNS)
        # StatefulSet local volumes: ordinal -> the node its PersistentVolume is pinned to (which may be gone)
        self.volumes: dict[int, str] = {}
        self.next_index = 0
        self.terminating = 0  # pods in w.pods that are terminating
        self.record = None  # the frozen Workload last observed; dropped on every change
        self.budgets: list = []  # the SimBudgets that select its pods
        self.sharing: tuple = ()  # the other workloads in its budgets (whose budgets its Ready count moves)
        # kubelet versions of the nodes its pods were evicted from, not yet taken over by a replacement
        # (by ordinal for a StatefulSet, in order for the others): pods_evicted_again
        self.displaced: dict = {}
        self.finished = spec.phase in ("Succeeded", "Failed")  # a finished bare pod (a Job's, say)
        self.drained = spec.kind != DAEMONSET and not self.finished  # a drain waits for its pods to go
        # bound pods per node (terminating ones too, as pod affinity counts them), and the pods not
        # terminating per zone and node (as topology spread counts them)
        self.node_counts: dict[str, int] = {}
        self.live_zone: dict[str, int] = {}
        self.live_node: dict[str, int] = {}
        self.compiled = None  # sim.world.placement.Compiled, when it has constraints
        self.priority = spec.scheduling.priority
        self.claims: dict = {}  # network volumes by ordinal (None: the one claim all its pods share)
        self.served: list = []  # the webhooks its Ready pods serve

    @property
    def kind(self) -> str:
        return self.spec.kind


class SimPod:
    __slots__ = ("uid", "name", "workload", "node", "state", "ready", "ordinal", "pinned", "replacement",
                 "gen", "template", "daemon_node", "started", "evicted_from", "deleted_at", "live", "unplaced_since",
                 "nominated", "waiting_since", "started_at")

    def __init__(self, uid: int, name: str, workload: SimWorkload, ordinal: int | None = None,
                 replacement: bool = False, template: int = 0):
        self.uid = uid
        self.name = name
        self.workload = workload
        self.node: SimNode | None = None
        self.state = PENDING
        self.ready = False
        self.ordinal = ordinal
        self.pinned: str | None = None  # node name a local volume ties the pod to
        self.replacement = replacement
        self.gen = 0  # bumps whenever a running start-up must be abandoned
        self.template = template
        self.daemon_node: str | None = None
        self.started = False  # its containers exist (phase Running in Kubernetes), Ready or not
        self.evicted_from = None  # the kubelet version of the node its predecessor was evicted from
        self.deleted_at: float | None = None  # when its graceful deletion began
        self.live = False  # counted in its workload's live_zone and live_node (bound, not terminating)
        self.unplaced_since: float | None = None  # Pending for lack of a fitting node since
        self.nominated: str | None = None  # the node a preemption freed for it
        self.waiting_since: float | None = None  # bound, waiting for its volume since
        self.started_at = 0.0  # when it was bound (preemption takes the most recently started first)

    def __lt__(self, other: SimPod) -> bool:
        return self.uid < other.uid

    def __hash__(self) -> int:
        return self.uid
