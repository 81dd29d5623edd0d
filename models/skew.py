"""The Kubernetes version-skew policy as data, and the code that applies it.

Each ``Rule`` bounds one component's minor version against a reference: the oldest
or newest kube-apiserver, every apiserver, or the kubelet on the same node. Checking a
set of component versions returns every ``Violation`` with the rule id, the versions
involved and a reason a person can act on. ``check_transition`` adds the one rule that
needs a before and an after: the control plane never skips a minor version.

Source of every rule: the version-skew policy, kubernetes.io/releases/version-skew-policy
(kubernetes/website content/en/releases/version-skew-policy.md). As in kubeadm's upgrade
policy (kubernetes cmd/kubeadm/app/phases/upgrade/policy.go) a violation is either
mandatory (the cluster breaks) or skippable (unsupported, but it runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from models.state import (
    APISERVER,
    CLOUD_CONTROLLER_MANAGER,
    CONTROL_PLANE_COMPONENTS,
    CONTROLLER_MANAGER,
    KUBE_PROXY,
    KUBECTL,
    KUBELET,
    SCHEDULER,
    ClusterState,
)
from models.version import KubeVersion

SKEW_SOURCE = "kubernetes.io/releases/version-skew-policy"
# Kubelets and kube-proxies older than this may trail by one minor fewer.
LEGACY_BELOW = KubeVersion(1, 25)

OLDEST_APISERVER = "oldest-apiserver"
NEWEST_APISERVER = "newest-apiserver"
EVERY_APISERVER = "every-apiserver"
NODE_KUBELET = "node-kubelet"

_REFERENCE_TEXT = {
    OLDEST_APISERVER: "the oldest kube-apiserver",
    NEWEST_APISERVER: "the newest kube-apiserver",
    EVERY_APISERVER: "a kube-apiserver",
    NODE_KUBELET: "the kubelet on its node",
}


@dataclass(frozen=True)
class Rule:
    """``component`` may be at most ``limit`` minors ``direction`` than ``reference``.

    ``direction`` is ``newer``, ``older`` or ``either``; ``legacy_limit`` replaces
    ``limit`` when the component's own version is older than 1.25.
    """

    id: str
    component: str
    reference: str
    direction: str
    limit: int
    legacy_limit: int | None = None
    mandatory: bool = True
    source: str = SKEW_SOURCE

    def limit_for(self, version: KubeVersion) -> int:
        if self.legacy_limit is not None and version < LEGACY_BELOW:
            return self.legacy_limit
        return self.limit


def _bounded_by_apiserver(component: str, prefix: str, older: int, legacy: int | None) -> tuple[Rule, Rule]:
    """Never newer than the oldest apiserver, at most ``older`` minors behind the newest.

    With apiservers at different minors both bounds narrow, as the policy's HA notes say: "kube-apiserver
    instances are at 1.32 and 1.31; kubelet is supported at 1.31, 1.30, and 1.29 (1.32 is not supported
    because that would be newer than the kube-apiserver instance at version 1.31)", the same for kube-proxy,
    and controller-manager, scheduler and cloud-controller-manager behind a load balancer at 1.31 only.
    """
    return (
        Rule(f"{prefix}-newer-than-apiserver", component, OLDEST_APISERVER, "newer", 0),
        Rule(f"{prefix}-too-old", component, NEWEST_APISERVER, "older", older, legacy, mandatory=False),
    )


RULES: tuple[Rule, ...] = (
    Rule("apiserver-ha-skew", APISERVER, OLDEST_APISERVER, "newer", 1),
    *_bounded_by_apiserver(KUBELET, "kubelet", 3, 2),
    *_bounded_by_apiserver(KUBE_PROXY, "kube-proxy", 3, 2),
    Rule("kube-proxy-kubelet-skew", KUBE_PROXY, NODE_KUBELET, "either", 3, 2, mandatory=False),
    *_bounded_by_apiserver(CONTROLLER_MANAGER, "controller-manager", 1, None),
    *_bounded_by_apiserver(SCHEDULER, "scheduler", 1, None),
    *_bounded_by_apiserver(CLOUD_CONTROLLER_MANAGER, "cloud-controller-manager", 1, None),
    Rule("kubectl-skew", KUBECTL, EVERY_APISERVER, "either", 1, mandatory=False),
)
RULES_BY_ID = {r.id: r for r in RULES}
MINOR_SKIP_RULE = "control-plane-minor-skip"
RULE_IDS = (*RULES_BY_ID, MINOR_SKIP_RULE)


@dataclass(frozen=True)
class Versioned:
    """One component (or ``count`` identical ones) at a version; ``node`` pairs kubelet and kube-proxy."""

    component: str
    name: str
    version: KubeVersion
    node: str | None = None
    count: int = 1


@dataclass(frozen=True)
class Violation:
    rule: str
    component: str
    subject: str
    version: KubeVersion
    bound: KubeVersion
    reason: str
    mandatory: bool = True
    count: int = 1

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "component": self.component,
            "subject": self.subject,
            "version": str(self.version),
            "bound": str(self.bound),
            "reason": self.reason,
            "mandatory": self.mandatory,
            "count": self.count,
        }


def versions_of(state: ClusterState) -> tuple[Versioned, ...]:
    """The component versions of a cluster; nodes with equal versions are folded together.

    A view does not change, so its answer is kept with it (a decision and its review ask several times)."""
    kept = state.__dict__.get("_versions_of")
    if kept is None:
        kept = state.__dict__["_versions_of"] = _versions_of(state)
    return kept


def _versions_of(state: ClusterState) -> tuple[Versioned, ...]:
    items = [
        Versioned(i.component, i.name, i.version)
        for i in state.control_plane.instances
        if i.component in CONTROL_PLANE_COMPONENTS
    ]
    groups: dict[tuple[KubeVersion, KubeVersion], list[str]] = {}
    for n in state.nodes:
        groups.setdefault((n.kubelet, n.kube_proxy), []).append(n.name)
    for (kubelet, proxy), names in sorted(groups.items()):
        label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
        key = f"nodes:{kubelet}:{proxy}"
        items.append(Versioned(KUBELET, label, kubelet, key, len(names)))
        items.append(Versioned(KUBE_PROXY, label, proxy, key, len(names)))
    return tuple(items)


def _references(rule: Rule, item: Versioned, apiservers: list[KubeVersion],
                kubelets: dict[str, KubeVersion]) -> list[KubeVersion]:
    if rule.reference == NODE_KUBELET:
        return [kubelets[item.node]] if item.node in kubelets else []
    if not apiservers:
        return []
    if rule.reference == OLDEST_APISERVER:
        return [min(apiservers)]
    if rule.reference == NEWEST_APISERVER:
        return [max(apiservers)]
    return [min(apiservers), max(apiservers)]


def _reason(rule: Rule, item: Versioned, ref: KubeVersion, delta: int, limit: int) -> str:
    who = f"{item.component} {item.version} ({item.name})"
    against = f"{_REFERENCE_TEXT[rule.reference]} ({ref})"
    if delta > 0:
        if limit == 0:
            return f"{who} is newer than {against}; it must not be newer"
        return f"{who} is {delta} minor versions newer than {against}; at most {limit} allowed"
    legacy = ""
    if rule.legacy_limit is not None and limit == rule.legacy_limit:
        legacy = f" ({item.component} older than {LEGACY_BELOW} may trail by at most {limit})"
    return f"{who} is {-delta} minor versions older than {against}; at most {limit} allowed{legacy}"


def check_versions(items: Iterable[Versioned], rules: Iterable[Rule] = RULES) -> list[Violation]:
    """Every violation of ``rules`` among ``items``, in rule order then item order."""
    return list(_checked(tuple(items), rules if isinstance(rules, tuple) else tuple(rules)))


@lru_cache(maxsize=4096)
def _checked(items: tuple[Versioned, ...], rules: tuple[Rule, ...]) -> tuple[Violation, ...]:
    """``check_versions``, remembered: pure, of frozen records, and asked at every decision and version change."""
    return tuple(_check(items, rules))


def _check(items: tuple[Versioned, ...], rules: tuple[Rule, ...]) -> list[Violation]:
    apiservers = [i.version for i in items if i.component == APISERVER]
    kubelets = {i.node: i.version for i in items if i.component == KUBELET and i.node}
    found: list[Violation] = []
    for rule in rules:
        for item in items:
            if item.component != rule.component:
                continue
            for ref in _references(rule, item, apiservers, kubelets):
                delta = ref.minors_to(item.version)
                limit = rule.limit_for(item.version)
                too_new = rule.direction in ("newer", "either") and delta > limit
                too_old = rule.direction in ("older", "either") and -delta > limit
                if too_new or too_old:
                    found.append(Violation(rule.id, item.component, item.name, item.version, ref,
                                           _reason(rule, item, ref, delta, limit), rule.mandatory, item.count))
                    break
    return found


def bare(items: Iterable[Versioned], to=None) -> tuple[tuple, ...]:
    """What the rules look at in ``items``: each one's component, version (and how it is written) and node,
    not its name or count, which only the reasons' words show. With ``to``, each at the version ``to(item)``
    says (what ``moved`` gives, without its records)."""
    if to is None:
        return tuple((i.component, i.version, str(i.version), i.node) for i in items)
    return tuple((i.component, v, str(v), i.node) for i in items for v in (to(i),))


def moved(items: Iterable[Versioned], to) -> tuple[Versioned, ...]:
    """``items`` with each one at the version ``to(item)`` says."""
    return tuple(Versioned(i.component, i.name, to(i), i.node, i.count) for i in items)


@lru_cache(maxsize=4096)
def adds_violation(before: tuple, after: tuple, components: tuple | None = None, transition: bool = False) -> bool:
    """Would moving from ``before`` to ``after`` (``bare`` items, the same ones in the same order, some at
    other versions) break a rule that ``before`` does not (of ``components`` only, if given), or, with
    ``transition``, move a control-plane instance past a minor? Remembered: a decision asks it before it
    words a refusal or a halt, and the answer is almost always no."""
    def named(key):  # each item named by its place, so that before and after name the same one alike
        return [Versioned(c, f"#{k}", v, node) for k, (c, v, _, node) in enumerate(key)]

    b, a = named(before), named(after)
    if transition and check_transition(b, a):
        return True
    present = {(v.rule, v.component, v.subject) for v in check_versions(b)}
    return any((v.rule, v.component, v.subject) not in present and (components is None or v.component in components)
               for v in check_versions(a))


def check_state(state: ClusterState) -> list[Violation]:
    return check_versions(versions_of(state))


def check_transition(before: Iterable[Versioned], after: Iterable[Versioned]) -> list[Violation]:
    """Violations of moving from ``before`` to ``after``: a control-plane instance that skips a minor."""
    old = {(i.component, i.name): i.version for i in before}
    found = []
    for item in after:
        if item.component not in CONTROL_PLANE_COMPONENTS:
            continue
        prev = old.get((item.component, item.name))
        if prev is not None and prev.minors_to(item.version) > 1:
            found.append(Violation(
                MINOR_SKIP_RULE, item.component, item.name, item.version, prev,
                f"{item.component} {item.name} would move from {prev} to {item.version}, skipping "
                f"{prev.minors_to(item.version) - 1} minor version(s); the control plane must be "
                f"upgraded one minor version at a time ({prev.add_minors(1)} next)",
            ))
    return found


def allowed_moves(items: Iterable[Versioned], component: str, name: str,
                  candidates: Iterable[KubeVersion]) -> list[tuple[KubeVersion, list[Violation]]]:
    """For each candidate version of one component: the violations moving it there would add.

    A candidate with an empty list is an allowed move: afterwards the component itself
    breaks no rule and it makes no other component break one. Violations elsewhere that
    exist before the move are not counted against it.
    """
    items = list(items)
    present = {(v.rule, v.component, v.subject) for v in check_versions(items)}
    results = []
    for cand in candidates:
        moved = [replace(i, version=cand) if (i.component == component and i.name == name) else i for i in items]
        added = [v for v in check_versions(moved)
                 if (v.component == component and v.subject == name) or (v.rule, v.component, v.subject) not in present]
        added += check_transition(items, moved)
        results.append((cand, added))
    return results
