import pytest

from models import compat
from models.version import parse_version as V


DEPRECATED_FROM = f"{compat.MIGRATION}; deprecated-in: {compat.PLUTO_SOURCE}"


@pytest.mark.parametrize("gv, kind, removed, deprecated, replacement, source", [
    ("extensions/v1beta1", "Ingress", "1.22", "1.14", "networking.k8s.io/v1", DEPRECATED_FROM),
    ("policy/v1beta1", "PodDisruptionBudget", "1.25", "1.21", "policy/v1", DEPRECATED_FROM),
    ("policy/v1beta1", "PodSecurityPolicy", "1.25", "1.21", "none: use Pod Security Admission", DEPRECATED_FROM),
    ("apps/v1beta2", "Deployment", "1.16", "1.9", "apps/v1", DEPRECATED_FROM),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", "1.29", "flowcontrol.apiserver.k8s.io/v1",
     f"{compat.MIGRATION}; deprecated-in: when the guide says its replacement became available"),
    # rows the team's first table lacked (the deprecation guide lists them)
    ("rbac.authorization.k8s.io/v1alpha1", "ClusterRoleBinding", "1.22", "1.17", "rbac.authorization.k8s.io/v1",
     DEPRECATED_FROM),
    ("scheduling.k8s.io/v1alpha1", "PriorityClass", "1.17", "1.14", "scheduling.k8s.io/v1", DEPRECATED_FROM),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "1.26", "1.23", "flowcontrol.apiserver.k8s.io/v1beta3",
     DEPRECATED_FROM),
    # a typed list is its kind's list: pluto flags DeploymentList like Deployment
    ("extensions/v1beta1", "DeploymentList", "1.16", "1.9", "apps/v1", DEPRECATED_FROM),
    ("policy/v1beta1", "PodDisruptionBudgetList", "1.25", "1.21", "policy/v1", DEPRECATED_FROM),
], ids=["ingress", "pdb", "psp", "deployment", "flowcontrol", "rbac-v1alpha1", "priorityclass-v1alpha1",
        "flowcontrol-v1beta1-guide-not-pluto", "typed-list", "typed-pdb-list"])
def test_removed_api(gv, kind, removed, deprecated, replacement, source):
    r = compat.removed_api(gv, kind)
    assert (str(r.removed_in), str(r.deprecated_in) if r.deprecated_in else None, r.replacement, r.source) == (
        removed, deprecated, replacement, source)


def test_a_list_of_a_current_api_was_never_removed():
    assert compat.removed_api("apps/v1", "DeploymentList") is None


def test_current_apis_were_never_removed():
    assert compat.removed_api("apps/v1", "Deployment") is None


@pytest.mark.parametrize("k8s, coredns, etcd", [("1.14.10", "1.3.1", None), ("1.27.4", "1.10.1", "3.5.7"),
                                                ("1.31", "1.11.3", "3.5.15"), ("1.35.0", "1.12.4", "3.6.6")])
def test_addon_defaults(k8s, coredns, etcd):
    row = compat.addon_defaults(V(k8s))
    assert str(row.coredns) == coredns
    assert (str(row.etcd) if row.etcd else None) == etcd


@pytest.mark.parametrize("flavor, version, k8s, supported", [
    ("calico", "3.26.1", "1.28", True), ("calico", "3.26.1", "1.29", False), ("calico", "3.29.1", "1.31.2", True),
    ("cilium", "1.15.3", "1.25", False), ("cilium", "1.18.0", "1.33", True), ("flannel", "0.25.0", "1.30", None),
    ("calico", "3.20.0", "1.22", None),
], ids=["calico-in", "calico-out", "calico-3.29", "cilium-below", "cilium-in", "unknown-flavor", "unknown-release"])
def test_cni_supports(flavor, version, k8s, supported):
    assert compat.cni_supports(flavor, V(version), V(k8s)) is supported


def test_every_row_names_its_source():
    rows = [*compat.REMOVED_APIS, *compat.ADDON_DEFAULTS, *compat.CNI_SUPPORT, *compat.RUNTIME_CHANGES, *compat.RELEASE_DATES]
    assert all(r.source for r in rows)


def test_release_dates_and_node_monitor_grace():
    assert compat.release_date(V("1.29.3")) == "2023-12-13"
    assert compat.release_date(V("1.13")) is None
    assert (compat.node_monitor_grace_s(V("1.31.9")), compat.node_monitor_grace_s(V("1.32.0"))) == (40.0, 50.0)
