"""Every rule of the version-skew policy, allowed and refused, with the exact rule id."""

import pytest

from models.skew import RULE_IDS, RULES, Versioned, adds_violation, allowed_moves, bare, check_transition, check_versions
from models.state import (
    APISERVER,
    CLOUD_CONTROLLER_MANAGER,
    CONTROLLER_MANAGER,
    KUBE_PROXY,
    KUBECTL,
    KUBELET,
    SCHEDULER,
)
from models.version import parse_version as V


def cluster(apiservers=("1.29",), cm=None, sched=None, ccm=None, nodes=(), kubectl=None):
    """Versioned items: nodes are (kubelet, kube-proxy) pairs."""
    items = [Versioned(APISERVER, f"api-{i}", V(v)) for i, v in enumerate(apiservers)]
    for component, versions in ((CONTROLLER_MANAGER, cm), (SCHEDULER, sched), (CLOUD_CONTROLLER_MANAGER, ccm)):
        items += [Versioned(component, f"{component}-{i}", V(v)) for i, v in enumerate(versions or ())]
    for i, (kubelet, proxy) in enumerate(nodes):
        items.append(Versioned(KUBELET, f"node-{i}", V(kubelet), f"node-{i}"))
        if proxy:
            items.append(Versioned(KUBE_PROXY, f"node-{i}", V(proxy), f"node-{i}"))
    if kubectl:
        items.append(Versioned(KUBECTL, "kubectl", V(kubectl)))
    return items


CASES = [
    # (id, items, expected rule ids)
    ("ha-apiservers-one-apart", cluster(("1.29", "1.28")), []),
    ("ha-apiservers-two-apart", cluster(("1.30", "1.28")), ["apiserver-ha-skew"]),
    ("kubelet-equal", cluster(nodes=[("1.29.3", None)]), []),
    ("kubelet-newer-patch-same-minor", cluster(("1.29.1",), nodes=[("1.29.5", None)]), []),
    ("kubelet-newer", cluster(nodes=[("1.30", None)]), ["kubelet-newer-than-apiserver"]),
    ("kubelet-newer-than-oldest-of-mixed", cluster(("1.29", "1.28"), nodes=[("1.29", None)]), ["kubelet-newer-than-apiserver"]),
    ("kubelet-3-behind-modern", cluster(("1.29",), nodes=[("1.26", None)]), []),
    ("kubelet-4-behind-modern", cluster(("1.29",), nodes=[("1.25", None)]), ["kubelet-too-old"]),
    ("kubelet-2-behind-legacy", cluster(("1.26",), nodes=[("1.24", None)]), []),
    ("kubelet-3-behind-legacy", cluster(("1.27",), nodes=[("1.24", None)]), ["kubelet-too-old"]),
    # the policy's HA note: apiservers at 1.32 and 1.31 support kubelets at 1.31, 1.30 and 1.29 only
    ("kubelet-3-behind-newest-of-mixed", cluster(("1.32", "1.31"), nodes=[("1.29", None)]), []),
    ("kubelet-4-behind-newest-of-mixed", cluster(("1.32", "1.31"), nodes=[("1.28", None)]), ["kubelet-too-old"]),
    ("kubelet-legacy-2-behind-newest-of-mixed", cluster(("1.26", "1.25"), nodes=[("1.24", None)]), []),
    ("kubelet-legacy-3-behind-newest-of-mixed", cluster(("1.26", "1.25"), nodes=[("1.23", None)]), ["kubelet-too-old"]),
    ("node-4-behind-newest-of-mixed-patches", cluster(("1.31.0", "1.30.5"), nodes=[("1.27.3", "1.27.3")]),
     ["kubelet-too-old", "kube-proxy-too-old"]),
    ("kube-proxy-equal", cluster(nodes=[("1.29", "1.29")]), []),
    ("kube-proxy-newer", cluster(nodes=[("1.29", "1.30")]), ["kube-proxy-newer-than-apiserver"]),
    ("kube-proxy-3-behind-modern", cluster(nodes=[("1.26", "1.26")]), []),
    ("kube-proxy-4-behind", cluster(nodes=[("1.29", "1.25")]), ["kube-proxy-too-old", "kube-proxy-kubelet-skew"]),
    ("kube-proxy-3-behind-legacy", cluster(("1.27",), nodes=[("1.27", "1.24")]), ["kube-proxy-too-old", "kube-proxy-kubelet-skew"]),
    ("kube-proxy-3-newer-than-kubelet", cluster(("1.29",), nodes=[("1.26", "1.29")]), []),
    ("kube-proxy-legacy-2-older-than-kubelet", cluster(("1.26",), nodes=[("1.26", "1.24")]), []),
    ("kube-proxy-3-behind-newest-of-mixed", cluster(("1.32", "1.31"), nodes=[("1.31", "1.29")]), []),
    ("kube-proxy-4-behind-newest-of-mixed", cluster(("1.32", "1.31"), nodes=[("1.31", "1.28")]), ["kube-proxy-too-old"]),
    ("kube-proxy-newer-than-oldest-of-mixed", cluster(("1.32", "1.31"), nodes=[("1.31", "1.32")]),
     ["kube-proxy-newer-than-apiserver"]),
    ("controller-manager-equal", cluster(cm=("1.29",)), []),
    ("controller-manager-one-older", cluster(cm=("1.28",)), []),
    ("controller-manager-two-older", cluster(cm=("1.27",)), ["controller-manager-too-old"]),
    ("controller-manager-newer", cluster(cm=("1.30",)), ["controller-manager-newer-than-apiserver"]),
    ("controller-manager-mixed-apiservers-at-newest", cluster(("1.29", "1.28"), cm=("1.29",)), ["controller-manager-newer-than-apiserver"]),
    ("controller-manager-mixed-apiservers-at-oldest", cluster(("1.29", "1.28"), cm=("1.28",)), []),
    ("scheduler-one-older", cluster(sched=("1.28",)), []),
    ("scheduler-newer", cluster(sched=("1.30",)), ["scheduler-newer-than-apiserver"]),
    ("scheduler-two-older", cluster(sched=("1.27",)), ["scheduler-too-old"]),
    ("ccm-one-older", cluster(ccm=("1.28",)), []),
    ("ccm-newer", cluster(ccm=("1.30",)), ["cloud-controller-manager-newer-than-apiserver"]),
    ("ccm-two-older", cluster(ccm=("1.27",)), ["cloud-controller-manager-too-old"]),
    ("kubectl-one-newer", cluster(kubectl="1.30"), []),
    ("kubectl-one-older", cluster(kubectl="1.28"), []),
    ("kubectl-two-newer", cluster(kubectl="1.31"), ["kubectl-skew"]),
    ("kubectl-mixed-apiservers", cluster(("1.29", "1.28"), kubectl="1.30"), ["kubectl-skew"]),
]


@pytest.mark.parametrize("items, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(items, expected):
    assert [v.rule for v in check_versions(items)] == expected


def test_every_rule_has_a_refusing_case():
    refused = {rule for _, _, rules in CASES for rule in rules}
    assert refused == {r.id for r in RULES}


def test_reason_names_versions_and_limit():
    (v,) = check_versions(cluster(("1.27",), nodes=[("1.24", None)]))
    assert v.reason == ("kubelet 1.24 (node-0) is 3 minor versions older than the newest kube-apiserver (1.27); "
                        "at most 2 allowed (kubelet older than 1.25 may trail by at most 2)")
    assert (str(v.version), str(v.bound), v.mandatory) == ("1.24", "1.27", False)
    (v,) = check_versions(cluster(nodes=[("1.30", None)]))
    assert v.reason == "kubelet 1.30 (node-0) is newer than the oldest kube-apiserver (1.29); it must not be newer"
    assert v.mandatory is True


# The policy's HA notes (KW content/en/releases/version-skew-policy.md): "kube-apiserver instances are at 1.32
# and 1.31; kubelet is supported at 1.31, 1.30, and 1.29 (1.32 is not supported because that would be newer
# than the kube-apiserver instance at version 1.31)", and the same for kube-proxy.
@pytest.mark.parametrize("component", [KUBELET, KUBE_PROXY])
@pytest.mark.parametrize("version, expected", [
    ("1.32.0", [("newer-than-apiserver", "1.31.4", "{c} 1.32.0 (node-0) is newer than the oldest kube-apiserver "
                                                   "(1.31.4); it must not be newer", True)]),
    ("1.31.0", []),
    ("1.30.0", []),
    ("1.29.0", []),
    ("1.28.9", [("too-old", "1.32.1", "{c} 1.28.9 (node-0) is 4 minor versions older than the newest "
                                      "kube-apiserver (1.32.1); at most 3 allowed", False)]),
], ids=["1.32-newer-than-1.31", "1.31", "1.30", "1.29", "1.28-too-old-for-1.32"])
def test_mixed_apiservers_narrow_a_node_component_from_both_sides(component, version, expected):
    items = [Versioned(APISERVER, "api-0", V("1.32.1")), Versioned(APISERVER, "api-1", V("1.31.4")),
             Versioned(component, "node-0", V(version), "node-0")]
    prefix = "kubelet" if component == KUBELET else "kube-proxy"
    assert [(v.rule, str(v.bound), v.reason, v.mandatory) for v in check_versions(items)] == [
        (f"{prefix}-{rule}", bound, reason.format(c=component), mandatory) for rule, bound, reason, mandatory in expected]


def test_the_legacy_limit_is_the_components_own_version_against_the_newest_apiserver():
    (v,) = check_versions(cluster(("1.26.3", "1.25.9"), nodes=[("1.23.17", None)]))
    assert (v.rule, str(v.bound), v.reason) == (
        "kubelet-too-old", "1.26.3",
        "kubelet 1.23.17 (node-0) is 3 minor versions older than the newest kube-apiserver (1.26.3); at most 2 "
        "allowed (kubelet older than 1.25 may trail by at most 2)")
    # a 1.25 kubelet three behind the newest apiserver is within the modern limit
    assert check_versions(cluster(("1.28.0", "1.27.5"), nodes=[("1.25.0", None)])) == []


@pytest.mark.parametrize("before, after, expected", [
    ("1.14", "1.15", []),
    ("1.14", "1.16", ["control-plane-minor-skip"]),
    ("1.29.1", "1.29.8", []),
    ("1.29", "1.31.2", ["control-plane-minor-skip"]),
], ids=["one-minor", "skip-one", "patch", "skip-to-patch"])
def test_control_plane_never_skips_a_minor(before, after, expected):
    found = check_transition(cluster((before,)), cluster((after,)))
    assert [v.rule for v in found] == expected
    if expected:
        assert found[0].reason.endswith(f"one minor version at a time ({V(before).add_minors(1)} next)")


def test_kubelets_may_skip_minors():
    assert check_transition(cluster(nodes=[("1.26", None)]), cluster(nodes=[("1.29", None)])) == []


def test_allowed_moves_for_an_apiserver_respect_kubelets_and_the_minor_skip():
    items = cluster(("1.26", "1.26"), cm=("1.26",), nodes=[("1.24", None)])
    moves = {str(v): sorted({x.rule for x in added}) for v, added in
             allowed_moves(items, APISERVER, "api-0", [V("1.25"), V("1.26"), V("1.27"), V("1.28")])}
    assert moves == {
        "1.25": ["controller-manager-newer-than-apiserver"],
        "1.26": [],
        # the newest apiserver bounds how old a kubelet may be: 1.24 may trail it by 2 (the policy's upgrade
        # order: kubelets at N-1 or N-2 before the first apiserver moves to N, for kubelets below 1.25)
        "1.27": ["kubelet-too-old"],
        "1.28": ["apiserver-ha-skew", "control-plane-minor-skip", "controller-manager-too-old", "kubelet-too-old"],
    }


def test_rule_ids_are_listed():
    assert "control-plane-minor-skip" in RULE_IDS and len(RULE_IDS) == len(set(RULE_IDS)) == len(RULES) + 1


def test_adds_violation_answers_from_the_versions_alone():
    """A decision asks ``adds_violation`` before it words a refusal: of the bare items (no names), positionally."""
    before = bare(cluster(("1.29", "1.29"), nodes=[("1.26", "1.26"), ("1.29", "1.29")]))
    up = tuple((c, V("1.30"), "1.30", n) if c == APISERVER else (c, v, t, n) for c, v, t, n in before)
    # apiservers to 1.30 leave the 1.26 kubelet four minors behind (and its kube-proxy too)
    assert adds_violation(before, up) is True
    assert adds_violation(before, up, (KUBELET,)) is True
    assert adds_violation(before, up, (SCHEDULER,)) is False
    # violations already there are not added: the same move from a cluster that breaks them already
    behind = bare(cluster(("1.30", "1.30"), nodes=[("1.26", "1.26")]))
    assert adds_violation(behind, behind) is False
    # a control-plane instance past a minor counts only with transition
    skip = tuple((c, V("1.31"), "1.31", n) if c == APISERVER else (c, v, t, n)
                 for c, v, t, n in bare(cluster(("1.29",))))
    assert (adds_violation(bare(cluster(("1.29",))), skip), adds_violation(bare(cluster(("1.29",))), skip, None, True)) \
        == (False, True)
