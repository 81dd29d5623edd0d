"""Which versions a generated cluster may run: the releases midair has data for, and the
ranges the version-skew policy leaves for kubelets, kube-proxy, CNI releases, etcd and targets.

Pure arithmetic over ``models.compat`` and ``models.skew``; the generators draw from these ranges,
so what they build is valid by construction rather than filtered afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis.errors import InvalidArgument

from models import compat
from models.skew import RULES_BY_ID
from models.state import ETCD, ClusterState
from models.version import KubeVersion

MAX_PATCH = 16  # patch releases drawn per minor: 0 to this
# The kubelet (and kube-proxy, with the same limits) may trail the newest apiserver by this much.
KUBELET_TOO_OLD = RULES_BY_ID["kubelet-too-old"]
NODE_LAG = KUBELET_TOO_OLD.limit


def node_lag_limit(version: KubeVersion) -> int:
    """How many minors a kubelet or kube-proxy at ``version`` may trail the newest apiserver."""
    return KUBELET_TOO_OLD.limit_for(version)


def minors(versions: Iterable[str | KubeVersion] | None, what: str = "versions") -> tuple[KubeVersion, ...]:
    """``versions`` as sorted, distinct minor releases midair has data for (all of them when None)."""
    if versions is None:
        return compat.KNOWN_MINORS
    out = set()
    for v in versions:
        try:
            minor = KubeVersion.parse(v).minor_release
        except ValueError as exc:
            raise InvalidArgument(f"{what}: {exc}") from None
        if minor not in compat.KNOWN_MINORS:
            raise InvalidArgument(f"{what}: midair has no data for Kubernetes {minor}; "
                                  f"valid: {compat.KNOWN_MINORS[0]} to {compat.NEWEST_KNOWN}")
        out.add(minor)
    if not out:
        raise InvalidArgument(f"{what} must name at least one minor release")
    return tuple(sorted(out))


def node_minors(control_plane: KubeVersion, max_lag: int | None, *, headroom: int = 0) -> list[KubeVersion]:
    """Known minors a kubelet may run under ``control_plane``, oldest first.

    With ``headroom`` 1 the minor must still be allowed after one more control-plane hop
    (kube-proxy, which the plan does not roll before a hop: see docs/testing.md).
    """
    lag_cap = NODE_LAG if max_lag is None else max_lag
    out = []
    for m in compat.KNOWN_MINORS:
        lag = m.minors_to(control_plane.minor_release)
        if 0 <= lag <= lag_cap and lag + headroom <= node_lag_limit(m):
            out.append(m)
    return out


def cni_rows(control_plane: KubeVersion) -> list[compat.CNISupport]:
    """CNI releases tested with the control plane's minor."""
    return [r for r in compat.CNI_SUPPORT if r.k8s_min <= control_plane.minor_release <= r.k8s_max]


def etcd_choices(control_plane: KubeVersion) -> list[KubeVersion]:
    """etcd versions for the minor: what kubeadm installs, and a 3.5 patched ready for 3.6 (none if unknown)."""
    row = compat.addon_defaults(control_plane)
    if row is None or row.etcd is None:
        return []
    choices = [row.etcd]
    if KubeVersion(3, 5) <= row.etcd < compat.ETCD_MIN_BEFORE_3_6:
        choices.append(compat.ETCD_MIN_BEFORE_3_6)
    return choices


def newest_target_minor(cluster: ClusterState) -> KubeVersion:
    """The newest minor an upgrade of ``cluster`` can reach without a blocking pre-check finding.

    Bounded by the newest release midair has data for, the CNI's tested range, and etcd:
    a cluster whose etcd is older than 3.5.20 stops before the first minor whose etcd is 3.6.
    """
    newest = compat.NEWEST_KNOWN
    cni = cluster.addon("cni")
    if cni is not None:
        row = compat.cni_support(cni.flavor or "", cni.version)
        if row is not None:
            newest = min(newest, row.k8s_max)
    etcd = cluster.control_plane.of(ETCD)
    if etcd and min(i.version for i in etcd) < compat.ETCD_MIN_BEFORE_3_6:
        for row in compat.ADDON_DEFAULTS:
            if row.minor > cluster.version.minor_release and row.etcd is not None and row.etcd >= compat.ETCD_3_6:
                newest = min(newest, row.minor.add_minors(-1))
                break
    return newest
