"""Each workload's scheduling constraints compiled against the other workloads, and the pods per
topology domain they read.

Labels are fixed per workload, so which workloads a term or a spread constraint selects is
worked out once, when the world starts; counting then only adds up those workloads' pods per
zone or per node (``SimWorkload.zone_counts`` and ``node_counts``, terminating pods included,
for pod affinity; ``live_zone`` and ``live_node``, without them, for topology spread). A node's
group (pool, zone, taints) shares every label but its hostname, so everything but
hostname-keyed rules is decided once per group; the rest per node. The decisions themselves
are ``models.scheduling``'s.

Simplifications (docs/fidelity.md): a spread constraint counts matching pods of a zone whatever
their pool; existing pods' *preferred* anti-affinity is not scored for the incoming pod.
"""

from __future__ import annotations

from models.constraints import DO_NOT_SCHEDULE, HONOR, HOSTNAME, ZONE
from models.scheduling import (
    affinity_satisfied,
    avoided,
    global_minimum,
    node_matches,
    node_preference,
    term_selects,
    untolerated,
    within_skew,
)
from models.storage import ZONAL
from sim.world.entities import SimNode, SimWorkload

NODE_LEVEL_KEYS = frozenset({HOSTNAME})


def selected(term, owner: SimWorkload, workloads) -> list[SimWorkload]:
    """The workloads whose pods ``term`` (of ``owner``'s pods) selects."""
    ns = owner.spec.namespace
    return [w for w in workloads if term_selects(term, ns, w.spec.namespace, w.spec.pod_labels)]


class Compiled:
    """What the scheduler needs of one workload's pods, worked out once."""

    def __init__(self, w: SimWorkload, workloads: list[SimWorkload], pools: tuple[str, ...]):
        s = w.spec.scheduling
        self.spec = s
        self.pools = pools
        self.tolerations = s.tolerations
        self.groups: dict = {}  # group -> (ok, avoided, preference, labels)
        affinity = s.node_affinity
        self.node_level = affinity is not None and any(
            t.keys & NODE_LEVEL_KEYS or t.match_fields
            for t in (*(affinity.required or ()), *(p.term for p in affinity.preferred)))
        self.aff: list[tuple[str, list[SimWorkload]]] = []
        self.aff_self = False
        if s.pod_affinity is not None and s.pod_affinity.required:
            terms = s.pod_affinity.required
            every = [x for x in workloads if all(term_selects(t, w.spec.namespace, x.spec.namespace, x.spec.pod_labels)
                                                 for t in terms)]
            self.aff = [(t.topology_key, every) for t in terms]
            self.aff_self = w in every
        self.anti = [(t.topology_key, selected(t, w, workloads)) for t in
                     (s.pod_anti_affinity.required if s.pod_anti_affinity else ())]
        self.existing_anti: list[tuple[str, SimWorkload]] = []  # filled by compile_all
        self.prefer = [(sign * p.weight, p.term.topology_key, selected(p.term, w, workloads))
                       for sign, a in ((1, s.pod_affinity), (-1, s.pod_anti_affinity)) if a is not None
                       for p in a.preferred]
        self.spread = []
        for c in s.spread:
            picked = [x for x in workloads if c.selector is not None and x.spec.namespace == w.spec.namespace
                      and not c.selector.empty and c.selector.matches(x.spec.pod_labels)]
            self_match = c.selector is not None and c.selector.matches(w.spec.pod_labels)
            self.spread.append((c, picked, self_match))
        self.zonal = w.spec.storage is not None and w.spec.storage.kind == ZONAL

    @property
    def node_rules(self) -> bool:
        """Does anything need a look at each node (hostname-keyed rules, node-level affinity)?"""
        return self.node_level or any(k == HOSTNAME for k, _ in (*self.aff, *self.anti)) \
            or any(k == HOSTNAME for k, _ in self.existing_anti) \
            or any(c.topology_key == HOSTNAME for c, _, _ in self.spread)

    @property
    def node_scored(self) -> bool:
        return any(k == HOSTNAME for _, k, _ in self.prefer) or any(
            c.topology_key == HOSTNAME and c.when_unsatisfiable != DO_NOT_SCHEDULE for c, _, _ in self.spread)

    def static(self, group, pool_labels: dict) -> tuple:
        """(fits, untolerated PreferNoSchedule taints, preferred node-affinity weight, labels) of a group."""
        found = self.groups.get(group)
        if found is None:
            pool, zone, taints = group
            labels = {**pool_labels, ZONE: zone}
            ok = untolerated(taints, self.tolerations) is None and (self.node_level or node_matches(self.spec, labels, ""))
            pref = 0 if self.node_level else node_preference(self.spec, labels, "")
            found = self.groups[group] = (ok, avoided(taints, self.tolerations), pref, labels)
        return found


def compile_all(workloads: dict[str, SimWorkload], pool_names: tuple[str, ...]) -> None:
    """Compile every workload that has constraints, or that another's anti-affinity selects."""
    every = list(workloads.values())
    for w in every:
        s = w.spec.scheduling
        if s.constrained or w.spec.storage is not None:
            w.compiled = Compiled(w, every, (w.spec.pool,) if w.spec.pool else pool_names)
    for w in every:
        anti = w.spec.scheduling.pod_anti_affinity
        for term in anti.required if anti is not None else ():
            for target in selected(term, w, every):
                if target.compiled is None:
                    target.compiled = Compiled(target, every, (target.spec.pool,) if target.spec.pool else pool_names)
                target.compiled.existing_anti.append((term.topology_key, w))


class Counts:
    """Pods per topology domain for one placement (the world does not change while it runs)."""

    def __init__(self, nodes: dict[str, SimNode]):
        self.nodes = nodes
        self._cache: dict = {}

    def domain(self, workloads, key: str, value, live: bool) -> int:
        if value is None:
            return 0
        if key == ZONE:
            return sum((w.live_zone if live else w.zone_counts).get(value, 0) for w in workloads)
        if key == HOSTNAME:
            return sum((w.live_node if live else w.node_counts).get(value, 0) for w in workloads)
        return self.by_label(workloads, key, live).get(value, 0)

    def by_label(self, workloads, key: str, live: bool) -> dict:
        ident = (tuple(id(w) for w in workloads), key, live)
        found = self._cache.get(ident)
        if found is None:
            found = {}
            for w in workloads:
                for name, n in (w.live_node if live else w.node_counts).items():
                    node = self.nodes.get(name)
                    value = node.labels.get(key) if node is not None else None
                    if n and value is not None:
                        found[value] = found.get(value, 0) + n
            self._cache[ident] = found
        return found

    def anywhere(self, workloads) -> bool:
        return any(n for w in workloads for n in w.node_counts.values())


class Spread:
    """One hard spread constraint's domains and global minimum, for one placement."""

    def __init__(self, constraint, picked, self_match, included: list, index, counts: Counts):
        self.c, self.picked, self.self_match = constraint, picked, self_match
        key = constraint.topology_key
        if key == HOSTNAME:  # every registered node of the included groups is a domain
            groups = {g for g, _ in included}
            domains = sum(index.registered.get(g, 0) for g in groups)
            per: dict[str, int] = {}
            for w in picked:
                for name, n in w.live_node.items():
                    node = counts.nodes.get(name)
                    if n and node is not None and index.counted_in(name) in groups:
                        per[name] = per.get(name, 0) + n
            found = list(per.values()) + ([0] if domains > len(per) else [])
        else:
            values = {labels.get(key) for g, labels in included if index.registered.get(g)} - {None}
            domains = len(values)
            found = [counts.domain(picked, key, v, True) for v in values]
        self.minimum = global_minimum(found, domains, constraint.min_domains)

    def allows(self, count: int) -> bool:
        return within_skew(self.c.max_skew, count, self.self_match, self.minimum)


def included_groups(c: Compiled, groups, pool_labels_of, constraint) -> list:
    """The groups whose nodes a spread constraint's domains come from (node inclusion policies)."""
    out = []
    for g in groups:
        ok, _, _, labels = c.static(g, pool_labels_of(g[0]))
        if constraint.node_affinity_policy == HONOR and not (c.node_level or node_matches(c.spec, labels, "")):
            continue
        if constraint.node_taints_policy == HONOR and untolerated(g[2], c.tolerations) is not None:
            continue
        out.append((g, labels))
    return out


AFFINITY = "didn't match pod affinity rules"
ANTI_AFFINITY = "didn't match pod anti-affinity rules"
EXISTING_ANTI = "didn't satisfy existing pods anti-affinity rules"
SPREAD = "didn't match pod topology spread constraints"
LABEL_MISSING = "didn't have the topology label {}"


def domain_problem(c: Compiled, labels: dict, counts: Counts, spreads: list[Spread]) -> str | None:
    """Why a group with ``labels`` fails the group-level rules (every key but the hostname), in the
    scheduler's own words (None: it passes)."""
    for key, picked in c.aff:
        if key == HOSTNAME:
            continue
        if key not in labels:  # a node without the topology label satisfies no affinity term
            return LABEL_MISSING.format(key)
        if not affinity_satisfied([counts.domain(picked, key, labels[key], False)], counts.anywhere(picked), c.aff_self):
            return AFFINITY
    for key, picked in c.anti:
        if key != HOSTNAME and counts.domain(picked, key, labels.get(key), False) > 0:
            return ANTI_AFFINITY
    for key, owner in c.existing_anti:
        if key != HOSTNAME and counts.domain([owner], key, labels.get(key), False) > 0:
            return EXISTING_ANTI
    for s in spreads:
        key = s.c.topology_key
        if key == HOSTNAME:
            continue
        if key not in labels:
            return LABEL_MISSING.format(key)
        if not s.allows(counts.domain(s.picked, key, labels[key], True)):
            return SPREAD
    return None


def domain_fits(c: Compiled, labels: dict, counts: Counts, spreads: list[Spread]) -> bool:
    return domain_problem(c, labels, counts, spreads) is None


def node_problem(c: Compiled, node: SimNode, counts: Counts, spreads: list[Spread]) -> str | None:
    """Why ``node`` fails the hostname-keyed rules or node-level node affinity (None: it passes)."""
    name = node.name
    if c.node_level and not node_matches(c.spec, node.labels, name):
        return "didn't match Pod's node affinity/selector"
    for key, picked in c.aff:
        if key == HOSTNAME and not affinity_satisfied([counts.domain(picked, key, name, False)],
                                                      counts.anywhere(picked), c.aff_self):
            return AFFINITY
    for key, picked in c.anti:
        if key == HOSTNAME and counts.domain(picked, key, name, False) > 0:
            return ANTI_AFFINITY
    for key, owner in c.existing_anti:
        if key == HOSTNAME and owner.node_counts.get(name, 0) > 0:
            return EXISTING_ANTI
    for s in spreads:
        if s.c.topology_key == HOSTNAME and not s.allows(counts.domain(s.picked, HOSTNAME, name, True)):
            return SPREAD
    return None


def node_fits(c: Compiled, node: SimNode, counts: Counts, spreads: list[Spread]) -> bool:
    return node_problem(c, node, counts, spreads) is None


def preference(c: Compiled, key_filter, value_of, counts: Counts) -> int:
    """Preferred pod (anti-)affinity weights times the pods they count, and soft spread (fewer is better)."""
    total = 0
    for weight, key, picked in c.prefer:
        if key_filter(key):
            total += weight * counts.domain(picked, key, value_of(key), False)
    for s, picked, _ in c.spread:
        if s.when_unsatisfiable != DO_NOT_SCHEDULE and key_filter(s.topology_key):
            total -= counts.domain(picked, s.topology_key, value_of(s.topology_key), True)
    return total
