"""Compatibility data: removed APIs, add-on versions, CNI support ranges, runtime changes.

Every row names its source. Rows whose figure could not be confirmed from a primary
source carry ``verified=False``; the pre-checks say so when they rely on one.

Sources (abbreviated in the rows):
- MIGRATION: kubernetes.io/docs/reference/using-api/deprecation-guide (the deprecated
  API migration guide), kubernetes/website content/en/docs/reference/using-api/deprecation-guide.md
- COREDNS: coredns/deployment kubernetes/CoreDNS-k8s_version.md
- KUBEADM: kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go (SupportedEtcdVersion);
  for 1.20 to 1.26, whose constants.go tags we could not read, the same figures as
  recorded by kubernetes/minikube pkg/minikube/constants/constants_kubeadm_images.go
- CALICO: docs.tigera.io, Calico "System requirements" per release
- CILIUM: docs.cilium.io, "Kubernetes compatibility" per release
- CHANGELOG: kubernetes/kubernetes CHANGELOG/CHANGELOG-1.NN.md and the release blog posts
- RELEASES: kubernetes.io/blog release announcements (dated URLs); for 1.24 to 1.31 also
  kubernetes/website data/releases/schedule.yaml
- KK#N: kubernetes/kubernetes issue or pull request N
- PLUTO: FairwindsOps/pluto versions.yaml (deprecated-in figures; where it disagrees with the
  migration guide on a removal, the guide wins: flowcontrol v1beta1 stopped being served in 1.26)

Corrections to the team's facts file, from the sources above (checked 2026-11-25):
Calico 3.27 was tested with 1.24-1.28 (not 1.27-1.29); Calico 3.30 with 1.31-1.33 (not
up to 1.35); Calico 3.31 with 1.32-1.34, to which 1.35 was added later (projectcalico
discussion #11717). The etcd figures for 1.20-1.26 and "containerd 1.x last supported
in 1.35" (kubernetes.io/blog/2025/12/17/kubernetes-v1-35-release) are confirmed; Cilium
1.16 and 1.17 remain unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.version import KubeVersion

MIGRATION = "kubernetes.io/docs/reference/using-api/deprecation-guide"
COREDNS = "coredns/deployment kubernetes/CoreDNS-k8s_version.md"
KUBEADM = "kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go"
CALICO = "docs.tigera.io Calico system requirements"
CILIUM = "docs.cilium.io Kubernetes compatibility"
CHANGELOG = "kubernetes/kubernetes CHANGELOG-1.NN.md and kubernetes.io/blog release posts"
RELEASES = "kubernetes.io/blog release announcements"


def _v(text: str) -> KubeVersion:
    return KubeVersion.parse(text)


@dataclass(frozen=True)
class RemovedAPI:
    group_version: str
    kind: str
    removed_in: KubeVersion
    replacement: str
    deprecated_in: KubeVersion | None = None  # None: no deprecation release on record
    source: str = MIGRATION


def _removed(removed_in: str, group_versions: tuple[str, ...], kinds: tuple[str, ...], replacement: str,
             deprecated_in: str | None = None) -> list[RemovedAPI]:
    dep = _v(deprecated_in) if deprecated_in else None
    source = MIGRATION
    if dep is not None:
        source += f"; deprecated-in: {PLUTO_SOURCE}" if group_versions[0] not in FLOWCONTROL_LATE else \
            "; deprecated-in: when the guide says its replacement became available"
    return [RemovedAPI(gv, k, _v(removed_in), replacement, dep, source) for gv in group_versions for k in kinds]


PLUTO_SOURCE = "FairwindsOps/pluto versions.yaml"
FLOWCONTROL_LATE = ("flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3")
_APPS = ("Deployment", "DaemonSet", "StatefulSet")
_RBAC = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
REMOVED_APIS: tuple[RemovedAPI, ...] = tuple(
    _removed("1.16", ("extensions/v1beta1",), ("NetworkPolicy",), "networking.k8s.io/v1", "1.9")
    + _removed("1.16", ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), _APPS, "apps/v1", "1.9")
    + _removed("1.16", ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), ("ReplicaSet",), "apps/v1")
    # not in the team's table; kubernetes.io blog, "Deprecated APIs Removed In 1.16" (2019-07-18)
    + _removed("1.16", ("extensions/v1beta1",), ("PodSecurityPolicy",), "policy/v1beta1", "1.10")
    # the deprecation guide: scheduling.k8s.io/v1alpha1 PriorityClass is no longer served as of 1.17
    + _removed("1.17", ("scheduling.k8s.io/v1alpha1",), ("PriorityClass",), "scheduling.k8s.io/v1", "1.14")
    + _removed("1.22", ("admissionregistration.k8s.io/v1beta1",),
               ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"), "admissionregistration.k8s.io/v1",
               "1.16")
    + _removed("1.22", ("apiextensions.k8s.io/v1beta1",), ("CustomResourceDefinition",), "apiextensions.k8s.io/v1",
               "1.16")
    + _removed("1.22", ("apiregistration.k8s.io/v1beta1",), ("APIService",), "apiregistration.k8s.io/v1", "1.10")
    + _removed("1.22", ("authentication.k8s.io/v1beta1",), ("TokenReview",), "authentication.k8s.io/v1", "1.6")
    + _removed("1.22", ("authorization.k8s.io/v1beta1",),
               ("SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"), "authorization.k8s.io/v1")
    + _removed("1.22", ("certificates.k8s.io/v1beta1",), ("CertificateSigningRequest",), "certificates.k8s.io/v1",
               "1.19")
    + _removed("1.22", ("coordination.k8s.io/v1beta1",), ("Lease",), "coordination.k8s.io/v1", "1.14")
    + _removed("1.22", ("extensions/v1beta1",), ("Ingress",), "networking.k8s.io/v1", "1.14")
    + _removed("1.22", ("networking.k8s.io/v1beta1",), ("Ingress", "IngressClass"), "networking.k8s.io/v1", "1.19")
    + _removed("1.22", ("rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"), _RBAC,
               "rbac.authorization.k8s.io/v1", "1.17")
    + _removed("1.22", ("scheduling.k8s.io/v1beta1",), ("PriorityClass",), "scheduling.k8s.io/v1", "1.14")
    + _removed("1.22", ("storage.k8s.io/v1beta1",), ("CSINode",), "storage.k8s.io/v1", "1.17")
    + _removed("1.22", ("storage.k8s.io/v1beta1",), ("CSIDriver",), "storage.k8s.io/v1", "1.19")
    + _removed("1.22", ("storage.k8s.io/v1beta1",), ("StorageClass",), "storage.k8s.io/v1", "1.6")
    + _removed("1.22", ("storage.k8s.io/v1beta1",), ("VolumeAttachment",), "storage.k8s.io/v1", "1.13")
    + _removed("1.25", ("batch/v1beta1",), ("CronJob",), "batch/v1", "1.21")
    + _removed("1.25", ("discovery.k8s.io/v1beta1",), ("EndpointSlice",), "discovery.k8s.io/v1", "1.21")
    + _removed("1.25", ("events.k8s.io/v1beta1",), ("Event",), "events.k8s.io/v1", "1.19")
    + _removed("1.25", ("autoscaling/v2beta1",), ("HorizontalPodAutoscaler",), "autoscaling/v2", "1.22")
    + _removed("1.25", ("policy/v1beta1",), ("PodDisruptionBudget",), "policy/v1", "1.21")
    + _removed("1.25", ("policy/v1beta1",), ("PodSecurityPolicy",), "none: use Pod Security Admission", "1.21")
    + _removed("1.25", ("node.k8s.io/v1beta1",), ("RuntimeClass",), "node.k8s.io/v1", "1.22")
    + _removed("1.26", ("flowcontrol.apiserver.k8s.io/v1beta1",),
               ("FlowSchema", "PriorityLevelConfiguration"), "flowcontrol.apiserver.k8s.io/v1beta3", "1.23")
    + _removed("1.26", ("autoscaling/v2beta2",), ("HorizontalPodAutoscaler",), "autoscaling/v2", "1.23")
    + _removed("1.27", ("storage.k8s.io/v1beta1",), ("CSIStorageCapacity",), "storage.k8s.io/v1", "1.24")
    # pluto's table stops before these: deprecated when their replacement was served (the guide: v1beta3
    # available since 1.26, v1 since 1.29)
    + _removed("1.29", ("flowcontrol.apiserver.k8s.io/v1beta2",),
               ("FlowSchema", "PriorityLevelConfiguration"), "flowcontrol.apiserver.k8s.io/v1", "1.26")
    + _removed("1.32", ("flowcontrol.apiserver.k8s.io/v1beta3",),
               ("FlowSchema", "PriorityLevelConfiguration"), "flowcontrol.apiserver.k8s.io/v1", "1.29")
)
_REMOVED_INDEX = {(r.group_version, r.kind): r for r in REMOVED_APIS}


def removed_api(group_version: str, kind: str) -> RemovedAPI | None:
    """The removal of ``group_version`` ``kind`` (or of the kind a typed ``KindList`` holds), or None if it
    was never removed (as far as we know)."""
    row = _REMOVED_INDEX.get((group_version, kind))
    if row is None and kind.endswith("List"):
        row = _REMOVED_INDEX.get((group_version, kind[: -len("List")]))
    return row


@dataclass(frozen=True)
class AddonDefaults:
    minor: KubeVersion
    coredns: KubeVersion
    etcd: KubeVersion | None  # at x.y.0 (later patches sometimes moved it); None: not known
    source: str = f"{COREDNS}; {KUBEADM}"


def _addons(minor: str, coredns: str, etcd: str | None) -> AddonDefaults:
    return AddonDefaults(_v(minor), _v(coredns), _v(etcd) if etcd else None)


ADDON_DEFAULTS: tuple[AddonDefaults, ...] = (
    _addons("1.14", "1.3.1", None),
    _addons("1.15", "1.3.1", None),
    _addons("1.16", "1.6.2", None),
    _addons("1.17", "1.6.5", None),
    _addons("1.18", "1.6.7", None),
    _addons("1.19", "1.7.0", "3.4.9"),
    _addons("1.20", "1.7.0", "3.4.13"),
    _addons("1.21", "1.8.0", "3.4.13"),
    _addons("1.22", "1.8.4", "3.5.0"),
    _addons("1.23", "1.8.6", "3.5.1"),
    _addons("1.24", "1.8.6", "3.5.3"),
    _addons("1.25", "1.9.3", "3.5.4"),
    _addons("1.26", "1.9.3", "3.5.6"),
    _addons("1.27", "1.10.1", "3.5.7"),
    _addons("1.28", "1.10.1", "3.5.9"),
    _addons("1.29", "1.11.1", "3.5.10"),
    _addons("1.30", "1.11.1", "3.5.12"),
    _addons("1.31", "1.11.3", "3.5.15"),
    _addons("1.32", "1.11.3", "3.5.16"),
    _addons("1.33", "1.12.0", "3.5.21"),
    _addons("1.34", "1.12.1", "3.6.4"),
    _addons("1.35", "1.12.4", "3.6.6"),
)
_ADDONS_INDEX = {a.minor: a for a in ADDON_DEFAULTS}
# etcd must be at 3.5.20 or later before it moves to 3.6 (etcd's v3.6 upgrade guide).
ETCD_MIN_BEFORE_3_6 = _v("3.5.20")
ETCD_3_6 = _v("3.6")


def addon_defaults(version: KubeVersion) -> AddonDefaults | None:
    """What kubeadm installs for the minor release of ``version``, if known."""
    return _ADDONS_INDEX.get(version.minor_release)


def coredns_for(version: KubeVersion) -> KubeVersion | None:
    row = addon_defaults(version)
    return row.coredns if row else None


@dataclass(frozen=True)
class CNISupport:
    flavor: str
    minor: KubeVersion
    k8s_min: KubeVersion
    k8s_max: KubeVersion
    verified: bool = True
    source: str = ""


def _cni(flavor: str, minor: str, lo: str, hi: str, verified: bool = True) -> CNISupport:
    return CNISupport(flavor, _v(minor), _v(lo), _v(hi), verified, CALICO if flavor == "calico" else CILIUM)


CNI_SUPPORT: tuple[CNISupport, ...] = (
    _cni("calico", "3.25", "1.23", "1.28"),
    _cni("calico", "3.26", "1.24", "1.28"),
    _cni("calico", "3.27", "1.24", "1.28"),
    _cni("calico", "3.28", "1.27", "1.30"),
    _cni("calico", "3.29", "1.29", "1.32"),
    _cni("calico", "3.30", "1.31", "1.33"),
    _cni("calico", "3.31", "1.32", "1.35"),
    _cni("cilium", "1.13", "1.19", "1.26"),
    _cni("cilium", "1.15", "1.26", "1.29"),
    _cni("cilium", "1.16", "1.27", "1.30", verified=False),
    _cni("cilium", "1.17", "1.29", "1.32", verified=False),
    _cni("cilium", "1.18", "1.30", "1.33"),
    _cni("cilium", "1.19", "1.32", "1.35"),
)
CNI_FLAVORS = tuple(sorted({c.flavor for c in CNI_SUPPORT}))


def cni_support(flavor: str, version: KubeVersion) -> CNISupport | None:
    """The tested Kubernetes range of a CNI release, or None when we have no data for it."""
    for row in CNI_SUPPORT:
        if row.flavor == flavor and row.minor == version.minor_release:
            return row
    return None


def cni_supports(flavor: str, version: KubeVersion, kubernetes: KubeVersion) -> bool | None:
    """Whether the CNI release was tested with that Kubernetes minor; None when unknown."""
    row = cni_support(flavor, version)
    if row is None:
        return None
    return row.k8s_min <= kubernetes.minor_release <= row.k8s_max


@dataclass(frozen=True)
class RuntimeChange:
    version: KubeVersion
    id: str
    summary: str
    verified: bool = True
    source: str = CHANGELOG


RUNTIME_CHANGES: tuple[RuntimeChange, ...] = (
    RuntimeChange(_v("1.24"), "dockershim-removed",
                  "dockershim removed: a docker:// node cannot run a 1.24+ kubelet without cri-dockerd"),
    RuntimeChange(_v("1.25"), "psp-removed", "PodSecurityPolicy removed; use Pod Security Admission"),
    RuntimeChange(_v("1.29"), "in-tree-cloud-providers-disabled", "in-tree cloud providers disabled by default"),
    RuntimeChange(_v("1.31"), "in-tree-cloud-providers-removed", "in-tree cloud providers removed"),
    RuntimeChange(_v("1.31"), "cgroup-v1-maintenance", "cgroup v1 support in maintenance mode"),
    RuntimeChange(_v("1.35"), "cgroup-v1-refused", "the kubelet refuses to start on cgroup v1 by default"),
    RuntimeChange(_v("1.35"), "containerd-1x-last", "last release that supports containerd 1.x"),
)


def runtime_change(change_id: str) -> RuntimeChange:
    for c in RUNTIME_CHANGES:
        if c.id == change_id:
            return c
    raise KeyError(change_id)


@dataclass(frozen=True)
class Release:
    minor: KubeVersion
    date: str
    source: str = RELEASES


RELEASE_DATES: tuple[Release, ...] = tuple(Release(_v(m), d) for m, d in (
    ("1.14", "2019-03-25"), ("1.15", "2019-06-19"), ("1.16", "2019-09-18"), ("1.17", "2019-12-09"),
    ("1.18", "2020-03-25"), ("1.19", "2020-08-26"), ("1.20", "2020-12-08"), ("1.21", "2021-04-08"),
    ("1.22", "2021-08-04"), ("1.23", "2021-12-07"), ("1.24", "2022-05-03"), ("1.25", "2022-08-23"),
    ("1.26", "2022-12-09"), ("1.27", "2023-04-11"), ("1.28", "2023-08-15"), ("1.29", "2023-12-13"),
    ("1.30", "2024-04-17"), ("1.31", "2024-08-13"), ("1.32", "2024-12-11"), ("1.33", "2025-04-23"),
    ("1.34", "2025-08-27"), ("1.35", "2025-12-17"),
))
KNOWN_MINORS = tuple(r.minor for r in RELEASE_DATES)
NEWEST_KNOWN = KNOWN_MINORS[-1]
MAX_MINOR_AHEAD = 2  # releases this far past the newest one midair has data for are accepted


def version_problem(v: KubeVersion) -> str | None:
    """Why ``v`` cannot be a Kubernetes version (None: it can)."""
    if v.major != 1:
        return f"{v} is not a Kubernetes version; Kubernetes versions are 1.x (e.g. \"1.29.3\")"
    newest = NEWEST_KNOWN.add_minors(MAX_MINOR_AHEAD)
    if v.minor_release > newest:
        return (f"Kubernetes {v.minor_release} does not exist as far as midair knows; "
                f"valid: 1.0 to {newest} (newest with data: {NEWEST_KNOWN})")
    return None


def release_date(version: KubeVersion) -> str | None:
    for r in RELEASE_DATES:
        if r.minor == version.minor_release:
            return r.date
    return None


ALL_CONTAINERS = "every container on the node"


@dataclass(frozen=True)
class KubeletRestart:
    """A kubelet minor upgrade after which the new kubelet restarts the node's running containers.

    The kubelet compares a hash of each container's spec with the hash recorded when it
    started the container; when a new kubelet computes the hash differently (or defaults
    fields differently), it takes every container as changed and restarts it. Upstream
    supports no running containers across a minor kubelet upgrade (the version-skew
    policy: drain first), so nothing stops this from happening again.
    """

    from_minor: KubeVersion
    to_minor: KubeVersion
    restarts: str
    why: str
    source: str


SKEW_POLICY = "kubernetes.io/releases/version-skew-policy (kubelet: drain before a minor upgrade)"
KUBELET_RESTARTS: tuple[KubeletRestart, ...] = (
    KubeletRestart(_v("1.1"), _v("1.2"), ALL_CONTAINERS, "the kubelet destroyed and recreated every container",
                   "KK#23104"),
    KubeletRestart(_v("1.7"), _v("1.8"), ALL_CONTAINERS, "the container spec hash changed", "KK#53644"),
    KubeletRestart(_v("1.11"), _v("1.12"), ALL_CONTAINERS, "the container spec hash changed", "KK#72296"),
    KubeletRestart(_v("1.13"), _v("1.14"), ALL_CONTAINERS, "the container definition changed (its hash)", "KK#84443"),
    KubeletRestart(_v("1.30"), _v("1.31"), ALL_CONTAINERS,
                   "the kubelet hashes only some of a container's fields from 1.31 (KK#124220)",
                   "KK#124220, KK#129385, KK#129659"),
)


def kubelet_restart(old: KubeVersion, new: KubeVersion) -> KubeletRestart | None:
    """The first known restart an in-place kubelet upgrade from ``old`` to ``new`` crosses (a skip-level
    upgrade crosses every minor on the way), or None when containers survive it."""
    for row in KUBELET_RESTARTS:
        if old.minor_release <= row.from_minor and row.to_minor <= new.minor_release:
            return row
    return None


# Controller timing defaults. Leader election: component-base config/v1alpha1/defaults.go
# (RecommendedDefaultLeaderElectionConfiguration). Node lifecycle: node-monitor-grace-period
# (a kube-controller-manager flag: pass the controller-manager's version)
# 40 s, raised to 50 s in 1.32 (kubernetes/kubernetes#126287, CHANGELOG-1.32.md); the
# default not-ready / unreachable toleration is 300 s (plugin/pkg/admission/defaulttolerationseconds).
LEADER_LEASE_DURATION_S = 15.0
LEADER_RENEW_DEADLINE_S = 10.0
LEADER_RETRY_PERIOD_S = 2.0
NOT_READY_TOLERATION_S = 300.0


def node_monitor_grace_s(controller_manager: KubeVersion) -> float:
    return 50.0 if controller_manager >= _v("1.32") else 40.0
