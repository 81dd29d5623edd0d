"""Network volumes from Kubernetes API JSON: which claims are zonal block storage or shared file
storage, in which zone each volume lives and which node it is attached to.

A claim's kind comes from its PersistentVolume when it has one (a node affinity on a zone key:
zonal, in that zone; on a node: local), else from its StorageClass's provisioner (the table
below, from each CSI driver's documentation), else from its access modes (ReadWriteMany or
ReadOnlyMany: shared; ReadWriteOnce: zonal). Attachments come from VolumeAttachment objects
(storage.k8s.io/v1), which the attach/detach controller keeps for CSI volumes.
"""

from __future__ import annotations

from models.quantity import parse_memory
from models.storage import LOCAL, SHARED, ZONAL, StorageClaim, Volume
from sim.adapters.kube_pods import LOCAL_STORAGE_CLASSES, _get

ZONAL_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs", "pd.csi.storage.gke.io", "kubernetes.io/gce-pd",
                      "disk.csi.azure.com", "kubernetes.io/azure-disk", "diskplugin.csi.alibabacloud.com",
                      "cinder.csi.openstack.org", "kubernetes.io/cinder")
SHARED_PROVISIONERS = ("efs.csi.aws.com", "filestore.csi.storage.gke.io", "file.csi.azure.com",
                       "kubernetes.io/azure-file", "nfs.csi.k8s.io", "nasplugin.csi.alibabacloud.com",
                       "cephfs.csi.ceph.com")
LOCAL_PROVISIONERS = ("kubernetes.io/no-provisioner", "rancher.io/local-path", "openebs.io/local",
                      "topolvm.io", "topolvm.cybozu.com", "local.csi.openebs.io")
# the node labels zonal CSI drivers pin their volumes with
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone", "topology.ebs.csi.aws.com/zone",
             "topology.gke.io/zone", "topology.disk.csi.azure.com/zone")
SHARED_MODES = ("ReadWriteMany", "ReadOnlyMany")


def _size(spec: dict) -> int | None:
    try:
        text = _get(spec, "resources", "requests", "storage")
        return parse_memory(text) if text is not None else None
    except ValueError:
        return None


class Storage:
    """The cluster's claims, volumes, storage classes and attachments, looked up by the translators."""

    def __init__(self, classes: list[dict], claims: list[dict], volumes: list[dict], attachments: list[dict]):
        self.provisioners = {_get(c, "metadata", "name", default=""): c.get("provisioner", "") for c in classes}
        self.claims = {(_get(c, "metadata", "namespace", default="default"), _get(c, "metadata", "name", default="")): c
                       for c in claims}
        self.volumes = {_get(v, "metadata", "name", default=""): v for v in volumes}
        self.attached = {_get(a, "spec", "source", "persistentVolumeName"): _get(a, "spec", "nodeName")
                         for a in attachments if _get(a, "status", "attached", default=False)}

    def kind(self, class_name: str | None, modes, volume: dict | None = None) -> tuple[str | None, str | None]:
        """(kind, zone) of a claim of ``class_name`` with access ``modes``, bound to ``volume`` if it is."""
        if volume is not None:
            spec = volume.get("spec", {}) or {}
            if "local" in spec or "hostPath" in spec:
                return LOCAL, None
            terms = _get(spec, "nodeAffinity", "required", "nodeSelectorTerms", default=[]) or []
            for t in terms:
                for e in t.get("matchExpressions", []) or []:
                    if e.get("key") in ZONE_KEYS and e.get("values"):
                        return ZONAL, str(e["values"][0])
        provisioner = self.provisioners.get(class_name or "", "")
        if class_name in LOCAL_STORAGE_CLASSES or provisioner in LOCAL_PROVISIONERS:
            return LOCAL, None
        if provisioner in SHARED_PROVISIONERS or any(m in SHARED_MODES for m in modes or ()):
            return SHARED, None
        if provisioner in ZONAL_PROVISIONERS or modes:
            return ZONAL, None
        return None, None

    def claim_of(self, namespace: str, template_spec: dict, claim_templates: list) -> StorageClaim | None:
        """A workload's network storage: its StatefulSet claim templates, or the claim its pods mount."""
        for t in claim_templates:
            spec = t.get("spec", {}) or {}
            kind, _ = self.kind(spec.get("storageClassName"), spec.get("accessModes"))
            if kind in (ZONAL, SHARED):
                return StorageClaim(kind, _size(spec))
        for v in template_spec.get("volumes", []) or []:
            name = _get(v, "persistentVolumeClaim", "claimName")
            claim = self.claims.get((namespace, name)) if name else None
            if claim is None:
                continue
            spec = claim.get("spec", {}) or {}
            kind, _ = self.kind(spec.get("storageClassName"), spec.get("accessModes"),
                                self.volumes.get(spec.get("volumeName")))
            if kind in (ZONAL, SHARED):
                return StorageClaim(kind, _size(spec))
        return None

    def records(self, workloads, statefulsets: dict, templates: dict) -> tuple[Volume, ...]:
        """The zonal volumes of ``workloads``: a StatefulSet's per ordinal (its claims ``TEMPLATE-NAME-N``),
        another's one claim. ``statefulsets`` and ``templates`` map workload keys to claim-template names
        and pod template specs."""
        out = []
        for w in sorted(workloads, key=lambda w: w.key):
            if w.storage is None or w.storage.kind != ZONAL:
                continue
            if w.kind == "StatefulSet":
                names = [(f"{statefulsets.get(w.key, 'data')}-{w.name}-{i}", i) for i in range(w.replicas)]
            else:
                claimed = [_get(v, "persistentVolumeClaim", "claimName") for v in
                           templates.get(w.key, {}).get("volumes", []) or []]
                names = [(c, None) for c in claimed if c][:1]
            for name, ordinal in names:
                claim = self.claims.get((w.namespace, name))
                if claim is None:
                    continue
                pv = (claim.get("spec", {}) or {}).get("volumeName")
                _, zone = self.kind(None, None, self.volumes.get(pv)) if pv in self.volumes else (None, None)
                out.append(Volume(f"{w.namespace}/{name}", w.key, ZONAL, zone, self.attached.get(pv), ordinal))
        return tuple(out)
