"""Volumes a workload claims, and the attach/detach rules that decide when they can follow a pod.

Three kinds, as clouds sell them:

- ``zonal``: block storage (EBS, Persistent Disk, Azure Disk), ReadWriteOnce: the volume lives in
  one zone, is provisioned in the zone of the node its first pod lands on (the usual
  ``WaitForFirstConsumer`` binding), and is attached to one node at a time. A pod on another node
  waits for it to be detached from the old one (a Multi-Attach error while it is still attached
  there) and attached to its own;
- ``shared``: file storage (NFS, EFS, Filestore, Azure Files), ReadWriteMany: no zone, no attach;
- ``local``: a node's own disk (local PV, hostPath, emptyDir): what ``localStorage: true`` means.

A StatefulSet claims one volume per pod (its volumeClaimTemplates); any other workload's pods
share one claim (a pod template names one PersistentVolumeClaim).
"""

from __future__ import annotations

from dataclasses import dataclass

ZONAL, SHARED, LOCAL = "zonal", "shared", "local"
STORAGE_KINDS = (ZONAL, SHARED, LOCAL)

# The attach/detach controller detaches a volume that is still mounted on a node (the kubelet never
# reported it unmounted) only after 6 minutes, and only from a node that is unhealthy or gone
# (kubernetes pkg/controller/volume/attachdetach: ReconcilerMaxWaitForUnmountDuration = 6 min;
# reconciler.go forceDetach; kubernetes#105341). A node tainted node.kubernetes.io/out-of-service
# is detached from at once.
FORCE_DETACH_AFTER_S = 360.0
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
MULTI_ATTACH = "Multi-Attach error"


@dataclass(frozen=True)
class StorageClaim:
    """What each pod of a workload claims: a kind and, for the record, a size in bytes."""

    kind: str
    size: int | None = None


@dataclass(frozen=True)
class Volume:
    """A PersistentVolume as a strategy sees it: whose it is, where it lives, where it is attached."""

    name: str
    workload: str  # the key of the workload that claims it
    kind: str
    zone: str | None = None  # None until provisioned (or for shared storage)
    node: str | None = None  # the node it is attached to
    ordinal: int | None = None  # a StatefulSet's pod ordinal


def claim_name(workload_name: str, ordinal: int | None) -> str:
    """The claim of a StatefulSet's pod (``data-NAME-N``, from a volumeClaimTemplate called data) or of
    another workload's pods (``NAME-data``)."""
    return f"data-{workload_name}-{ordinal}" if ordinal is not None else f"{workload_name}-data"
