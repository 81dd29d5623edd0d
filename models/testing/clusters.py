"""``clusters()``, ``targets()`` and ``upgrades()``: clusters before an upgrade, and where to take them.

A generated cluster is laid out as the scenario loader lays one out (nodes ``POOL-1``,
``POOL-2``, ... spread over the pool's zones in turn, with the loader's node addresses;
control-plane instances ``kube-apiserver-0``, ...; CoreDNS as the Deployment
``kube-system/coredns``), so ``to_scenario`` can write it as a scenario file that loads back
into the same records.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from models import compat
from models.admission import FAIL, IGNORE, Webhook, WebhookRule
from models.constraints import (
    NO_EXECUTE,
    NO_SCHEDULE,
    PREEMPT_NEVER,
    PREFER_NO_SCHEDULE,
    PriorityClass,
    Taint,
    node_labels,
)
from models.selectors import LabelSelector, Requirement
from models.state import (
    coredns_workload,
    APISERVER,
    CONTROLLER_MANAGER,
    ETCD,
    SCHEDULER,
    Addon,
    CloudResources,
    ClusterState,
    ControlPlane,
    Instance,
    Node,
    NodePool,
    Resources,
    Subnet,
)
from models.testing.bounds import check_int, check_order
from models.testing.versions import (
    MAX_PATCH,
    cni_rows,
    etcd_choices,
    minors,
    newest_target_minor,
    node_minors,
)
from models.testing.context import services
from models.testing.workloads import WORKLOAD_NAMES, workloads
from models.version import KubeVersion

POOL_NAMES = ("general", "system", "gpu", "batch", "spot", "infra")
ZONES = ("a", "b", "c")
GI = 2**30
NODE_SIZES = (Resources(2000, 8 * GI, 110), Resources(4000, 16 * GI, 110), Resources(8000, 32 * GI, 110),
              Resources(16000, 64 * GI, 250))
RUNTIMES = ("containerd://1.7.2", "containerd://1.6.28", "containerd://2.0.2")
POOL_LABELS = ((), (("disktype", "ssd"),), (("disktype", "hdd"), ("tier", "standard")))
PRIORITY_CLASSES = (PriorityClass("critical", 100_000), PriorityClass("batch", -10, PREEMPT_NEVER))
FREE_IPS = (4096, 256, 64)


def node_ip(zone_index: int, k: int) -> str:
    """The k-th address of a zone's subnet, as the scenario loader hands them out (10.<zone>.0.0/16 from .10)."""
    k += 10
    return f"10.{zone_index}.{k // 256}.{k % 256}"


def patched(minor: KubeVersion, highest: int = MAX_PATCH) -> st.SearchStrategy[KubeVersion]:
    return st.integers(0, highest).map(lambda p: KubeVersion(minor.major, minor.minor, p))


def _node_version(cp: KubeVersion, choices: list[KubeVersion]) -> st.SearchStrategy[KubeVersion]:
    """A kubelet or kube-proxy version under ``cp``: any patch of an older minor, no newer patch of its own."""
    return st.sampled_from(choices).flatmap(
        lambda m: patched(m, cp.patch or 0) if m.same_minor(cp) else patched(m))


@st.composite
def _control_plane(draw, cp: KubeVersion, max_apiservers: int, room: int) -> ControlPlane:
    counts = {c: draw(st.integers(1, max_apiservers)) for c in (APISERVER, CONTROLLER_MANAGER, SCHEDULER)}
    instances = [Instance(f"{c}-{i}", c, cp) for c, k in counts.items() for i in range(k)]
    etcd = etcd_choices(cp)
    if etcd:
        if room and etcd[-1] >= compat.ETCD_MIN_BEFORE_3_6:
            # reaching ``room`` minors on may cross into etcd 3.6: keep only a version ready for it
            crossing = any(r.etcd is not None and r.etcd >= compat.ETCD_3_6 and cp.minor < r.minor.minor <= cp.minor + room
                           for r in compat.ADDON_DEFAULTS)
            etcd = [v for v in etcd if v >= compat.ETCD_MIN_BEFORE_3_6] if crossing else etcd
        version = draw(st.sampled_from(etcd))
        instances += [Instance(f"{ETCD}-{i}", ETCD, version) for i in range(draw(st.integers(1, max_apiservers)))]
    return ControlPlane(tuple(instances))


@st.composite
def _clusters(draw, cp_minors, min_pools, max_pools, min_nodes, max_nodes, max_apiservers, max_lag,
              max_workloads, max_replicas, blocking_pdbs, room) -> ClusterState:
    cp = draw(st.sampled_from(cp_minors).flatmap(patched))
    control_plane = draw(_control_plane(cp, max_apiservers, room))
    kubelet_minors = node_minors(cp, max_lag)
    proxy = draw(_node_version(cp, node_minors(cp, max_lag, headroom=1)))
    names = draw(st.lists(st.sampled_from(POOL_NAMES), min_size=min_pools, max_size=max_pools, unique=True))
    pools, nodes = [], []
    zone_index: dict[str, int] = {}
    handed_out: dict[str, int] = {}
    for name in names:
        zones = tuple(draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=len(ZONES), unique=True)))
        taints = ()
        # a dedicated pool (GPU, spot): only pods that tolerate it (NoExecute: and none that do not stay), or
        # less willingly; never the first, which the system's pods need
        if pools and draw(st.integers(0, 2)) == 0:
            taints = (Taint("dedicated", draw(st.sampled_from((NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE))), name),)
        pool = NodePool(name, draw(st.integers(min_nodes, max_nodes)), draw(_node_version(cp, kubelet_minors)),
                        draw(st.sampled_from(NODE_SIZES)), zones, draw(st.sampled_from(RUNTIMES)),
                        labels=draw(st.sampled_from(POOL_LABELS)), taints=taints)
        pools.append(pool)
        mixed = draw(st.booleans())  # some nodes on another kubelet than the pool's (a half-done roll)
        for k in range(pool.count):
            zone = zones[k % len(zones)]
            zi = zone_index.setdefault(zone, len(zone_index))
            handed_out[zone] = handed_out.get(zone, 0) + 1
            kubelet = draw(st.just(pool.version) | _node_version(cp, kubelet_minors)) if mixed else pool.version
            nodes.append(Node(f"{name}-{k + 1}", name, zone, kubelet, proxy, pool.allocatable, pool.runtime,
                              ip=node_ip(zi, handed_out[zone] - 1), taints=pool.taints,
                              labels=node_labels(pool.labels, zone, f"{name}-{k + 1}")))
    dns_replicas = draw(st.sampled_from((2, 1, 0)))
    classes = tuple(draw(st.lists(st.sampled_from(PRIORITY_CLASSES), unique=True)))
    user = draw(workloads(tuple(pools), max_workloads=max_workloads, max_replicas=max_replicas,
                          blocking_pdbs=blocking_pdbs, coredns_replicas=dns_replicas, classes=classes))
    addons = [Addon("coredns", compat.coredns_for(cp)), Addon("kube-proxy", proxy)]
    rows = [r for r in cni_rows(cp) if r.k8s_max.minor >= min(cp.minor + room, compat.NEWEST_KNOWN.minor)]
    if rows and draw(st.booleans()):
        row = draw(st.sampled_from(rows))
        addons.append(Addon("cni", draw(patched(row.minor, 5)), row.flavor))
    zones = sorted({n.zone for n in nodes} | {z for p in pools for z in p.zones})
    subnets = tuple(Subnet(f"subnet-{z}", z, draw(st.sampled_from(FREE_IPS))) for z in zones)
    return ClusterState(control_plane, tuple(pools), tuple(nodes),
                        ((coredns_workload(dns_replicas),) if dns_replicas else ()) + user,
                        tuple(addons), CloudResources(subnets=subnets), webhooks=draw(_webhooks(user)),
                        priority_classes=classes, services=draw(services(user)))


@st.composite
def _webhooks(draw, user) -> tuple[Webhook, ...]:
    """None, or one webhook on pod creation: failing closed only when served by a Deployment of two or more
    replicas whose budget lets one go, and never for kube-system or its own namespace (so that it cannot
    deadlock); failing open otherwise."""
    if draw(st.booleans()):
        return ()
    backends = [w for w in user if w.kind == "Deployment" and w.replicas >= 2 and w.pdb is not None
                and w.pdb.disruptions_allowed(w.replicas, w.pdb.expected_count(w.replicas, w.replicas)) >= 1
                and w.pdb.desired_healthy(w.pdb.expected_count(w.replicas, w.replicas)) >= 1]
    backend = draw(st.sampled_from(backends)) if backends and draw(st.integers(0, 3)) else None
    rule = WebhookRule(("CREATE",), ("",), ("pods",))
    if backend is None:
        return (Webhook("validate.example.com", draw(st.sampled_from(("validating", "mutating"))), (rule,), IGNORE,
                        float(draw(st.integers(1, 30)))),)
    spared = tuple(sorted({"kube-system", backend.namespace}))
    namespaces = LabelSelector(match_expressions=(Requirement("kubernetes.io/metadata.name", "NotIn", spared),))
    return (Webhook("validate.example.com", draw(st.sampled_from(("validating", "mutating"))), (rule,), FAIL, 10.0,
                    namespaces, None, backend.key),)


def clusters(*, versions: Iterable[str | KubeVersion] | None = None, min_pools: int = 1, max_pools: int = 3,
             min_nodes_per_pool: int = 1, max_nodes_per_pool: int = 4, max_apiservers: int = 3,
             max_kubelet_lag: int | None = None, max_workloads: int = 4, max_replicas: int = 6,
             blocking_pdbs: bool = False) -> st.SearchStrategy[ClusterState]:
    """Healthy clusters before an upgrade, valid by construction.

    ``versions``: the minor releases the control plane may run (default: every release midair
    has data for, 1.14 to 1.35); it runs one patch of one of them, on every instance.
    ``max_kubelet_lag``: how many minors kubelets and kube-proxy may trail it (default: as far
    as the version-skew policy allows; kube-proxy one minor less, so that the next control-plane
    hop stays within the policy). ``blocking_pdbs``: also draw budgets that allow no eviction.
    """
    return _build_clusters(versions, min_pools, max_pools, min_nodes_per_pool, max_nodes_per_pool, max_apiservers,
                           max_kubelet_lag, max_workloads, max_replicas, blocking_pdbs, room=0)


def _build_clusters(versions, min_pools, max_pools, min_nodes, max_nodes, max_apiservers, max_lag,
                    max_workloads, max_replicas, blocking_pdbs, room) -> st.SearchStrategy[ClusterState]:
    cp_minors = [m for m in minors(versions) if m.minor + room <= compat.NEWEST_KNOWN.minor]
    if not cp_minors:
        raise InvalidArgument(f"no version in {versions} leaves {room} minor release(s) to upgrade to before "
                              f"{compat.NEWEST_KNOWN}, the newest midair has data for")
    check_int("min_pools", min_pools, 1, len(POOL_NAMES))
    check_int("max_pools", max_pools, 1, len(POOL_NAMES))
    check_order("min_pools", min_pools, "max_pools", max_pools)
    check_int("min_nodes_per_pool", min_nodes, 0)
    check_int("max_nodes_per_pool", max_nodes, 0)
    check_order("min_nodes_per_pool", min_nodes, "max_nodes_per_pool", max_nodes)
    check_int("max_apiservers", max_apiservers, 1)
    if max_lag is not None:
        check_int("max_kubelet_lag", max_lag, 0, 3)
    check_int("max_workloads", max_workloads, 0, len(WORKLOAD_NAMES))
    check_int("max_replicas", max_replicas, 0)
    return _clusters(tuple(cp_minors), min_pools, max_pools, min_nodes, max_nodes, max_apiservers, max_lag,
                     max_workloads, max_replicas, bool(blocking_pdbs), room)


def targets(cluster: ClusterState, *, min_minors: int = 0, max_minors: int = 3) -> st.SearchStrategy[KubeVersion]:
    """Versions ``cluster`` can be upgraded to: ``min_minors`` to ``max_minors`` minors past its
    control plane, never behind a kubelet, within midair's data, the CNI's tested range and what
    its etcd can reach (see ``newest_target_minor``). Empty (``st.nothing()``) when there is none.
    """
    check_int("min_minors", min_minors, 0)
    check_int("max_minors", max_minors, 0)
    check_order("min_minors", min_minors, "max_minors", max_minors)
    low = max([cluster.version, *(n.kubelet for n in cluster.nodes)])
    high = min(low.minor + max_minors, newest_target_minor(cluster).minor)
    choices = [KubeVersion(low.major, m) for m in range(low.minor + min_minors, high + 1)]
    if not choices:
        return st.nothing()
    return st.sampled_from(choices).flatmap(
        lambda m: st.integers(low.patch or 0, (low.patch or 0) + 4).map(lambda p: KubeVersion(m.major, m.minor, p))
        if m.same_minor(low) else patched(m))


def upgrades(*, min_minors: int = 0, max_minors: int = 3, versions: Iterable[str | KubeVersion] | None = None,
             min_pools: int = 1, max_pools: int = 3, min_nodes_per_pool: int = 1, max_nodes_per_pool: int = 4,
             max_apiservers: int = 3, max_kubelet_lag: int | None = None, max_workloads: int = 4,
             max_replicas: int = 6, blocking_pdbs: bool = False) -> st.SearchStrategy[tuple[ClusterState, KubeVersion]]:
    """``(cluster, target)`` pairs: a cluster from ``clusters()`` (same bounds) and a target from
    ``targets()``. The pair has a plan and, unless ``blocking_pdbs``, no blocking pre-check finding."""
    check_int("min_minors", min_minors, 0)
    check_int("max_minors", max_minors, 0)
    check_order("min_minors", min_minors, "max_minors", max_minors)
    built = _build_clusters(versions, min_pools, max_pools, min_nodes_per_pool, max_nodes_per_pool, max_apiservers,
                            max_kubelet_lag, max_workloads, max_replicas, blocking_pdbs, room=min_minors)
    return built.flatmap(lambda c: targets(c, min_minors=min_minors, max_minors=max_minors).map(lambda t: (c, t)))
