"""Pods and their volumes from Kubernetes API JSON: what a drain and the translators need of a
pod, which claims live on one node's disk, and the pod records of a view.

Pure and tolerant like ``sim.adapters.kube_translate``: every lookup has a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.drain import DrainPod
from models.state import BARE_POD, Pod


def _get(obj: dict, *path, default=None):
    for key in path:
        if not isinstance(obj, dict) or key not in obj or obj[key] is None:
            return default
        obj = obj[key]
    return obj


def _condition(obj: dict, kind: str) -> bool:
    for c in _get(obj, "status", "conditions", default=[]) or []:
        if c.get("type") == kind:
            return c.get("status") == "True"
    return False


@dataclass(frozen=True)
class PodInfo:
    """What the translators need of a pod."""

    namespace: str
    name: str
    node: str | None
    owner_kind: str | None
    owner_name: str | None
    labels: dict = field(hash=False, compare=False)
    ready: bool = False
    phase: str = "Pending"
    terminating: bool = False
    mirror: bool = False
    local_storage: bool = False  # data that lives and dies with the pod or its node: emptyDir, hostPath
    pinned: bool = False  # a claim bound to a volume on one node's disk: the pod can run only there
    emptydir: bool = False  # what kubectl drain's local-storage filter looks for
    deleted_at: float | None = None  # its deletionTimestamp, seconds since the epoch

    @property
    def daemonset(self) -> bool:
        return self.owner_kind == "DaemonSet"

    @property
    def evictable(self) -> bool:
        """Would a drain have to evict it and wait for it? (not DaemonSet, mirror or finished pods)"""
        return not (self.daemonset or self.mirror or self.phase in ("Succeeded", "Failed"))

    def for_drain(self, now: float) -> DrainPod:
        """What kubectl drain's filters (``models.drain``) see of it at ``now`` (seconds since the epoch)."""
        return DrainPod(self.namespace, self.name, self.phase, self.daemonset, self.mirror,
                        controlled=self.owner_kind is not None, emptydir=self.emptydir,
                        deleting_for_s=None if self.deleted_at is None else max(0.0, now - self.deleted_at))


# Storage classes that provision volumes on one node's disk (local static provisioner, Rancher's
# local-path, OpenEBS hostpath): a claim of theirs is local before it is even bound.
LOCAL_STORAGE_CLASSES = ("local-storage", "local-path", "openebs-hostpath")


# Node labels that CSI drivers for node-local disks pin their volumes with (besides the
# kubelet's own kubernetes.io/hostname): TopoLVM, and OpenEBS LVM and ZFS LocalPV.
NODE_KEYS = ("kubernetes.io/hostname", "topology.topolvm.io/node", "topology.topolvm.cybozu.com/node",
             "openebs.io/nodeid")


def _is_local_volume(pv: dict) -> bool:
    """A PersistentVolume on one node's disk: ``local`` or ``hostPath``, or pinned to one node."""
    spec = pv.get("spec", {}) or {}
    if "local" in spec or "hostPath" in spec:
        return True
    terms = _get(spec, "nodeAffinity", "required", "nodeSelectorTerms", default=[]) or []
    return any(e.get("key") in NODE_KEYS for t in terms for e in t.get("matchExpressions", []) or [])


def local_claims(pvcs: list[dict], pvs: list[dict]) -> frozenset[tuple[str, str]]:
    """(namespace, name) of every claim bound to a node-local volume, or of a local storage class."""
    local_pvs = {_get(pv, "metadata", "name") for pv in pvs if _is_local_volume(pv)}
    out = set()
    for pvc in pvcs:
        spec = pvc.get("spec", {}) or {}
        if spec.get("volumeName") in local_pvs or spec.get("storageClassName") in LOCAL_STORAGE_CLASSES:
            out.add((_get(pvc, "metadata", "namespace", default="default"), _get(pvc, "metadata", "name", default="")))
    return frozenset(out)


def _has_scratch_storage(spec: dict) -> bool:
    """Data that goes with the pod (emptyDir, a generic ephemeral volume of a local class) or stays
    on a node the next pod may not run on (hostPath)."""
    return any("emptyDir" in v or "hostPath" in v
               or _get(v, "ephemeral", "volumeClaimTemplate", "spec", "storageClassName") in LOCAL_STORAGE_CLASSES
               for v in spec.get("volumes", []) or [])


def _timestamp(text) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp() if text else None
    except ValueError:
        return None


def _has_pinned_claim(spec: dict, namespace: str, claims: frozenset[tuple[str, str]]) -> bool:
    return any((namespace, _get(v, "persistentVolumeClaim", "claimName")) in claims for v in spec.get("volumes", []) or [])


def translate_pod(obj: dict, replica_sets: dict[tuple[str, str], str],
                  local_claims: frozenset[tuple[str, str]] = frozenset()) -> PodInfo:
    meta = obj.get("metadata", {}) or {}
    ns = meta.get("namespace", "default")
    owner = next((o for o in meta.get("ownerReferences", []) or [] if o.get("controller")), None)
    kind, name = (owner.get("kind"), owner.get("name")) if owner else (None, None)
    if kind == "ReplicaSet":
        template_hash = (meta.get("labels") or {}).get("pod-template-hash")
        if (ns, name) in replica_sets:
            kind, name = "Deployment", replica_sets[(ns, name)]
        elif template_hash and name.endswith(f"-{template_hash}"):
            # a Deployment names its ReplicaSets <deployment>-<pod-template-hash>
            kind, name = "Deployment", name[: -len(template_hash) - 1]
    return PodInfo(ns, meta.get("name", ""), _get(obj, "spec", "nodeName"), kind, name, meta.get("labels", {}) or {},
                   ready=_condition(obj, "Ready"), phase=_get(obj, "status", "phase", default="Pending"),
                   terminating=bool(meta.get("deletionTimestamp")),
                   mirror="kubernetes.io/config.mirror" in (meta.get("annotations", {}) or {}),
                   local_storage=_has_scratch_storage(obj.get("spec", {}) or {}),
                   pinned=_has_pinned_claim(obj.get("spec", {}) or {}, ns, local_claims),
                   emptydir=any("emptyDir" in v for v in _get(obj, "spec", "volumes", default=[]) or []),
                   deleted_at=_timestamp(meta.get("deletionTimestamp")))


def pod_records(pods: list[PodInfo]) -> list[Pod]:
    return [Pod(p.name, f"{p.owner_kind or BARE_POD}/{p.owner_name or p.name}", p.node, p.ready, p.phase,
                p.local_storage or p.pinned, p.daemonset, p.mirror) for p in pods]
