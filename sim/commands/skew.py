"""``midair skew``: check component versions against the version-skew policy.

The document (``-o json`` / ``-o yaml``; ``--json`` is ``-o json``)::

    {"violations": [{"rule", "component", "subject", "version", "bound", "reason", "mandatory", "count"}],
     "allowed": [{"component", "subject", "version", "allowed": [...], "refused": [{"version", "rules"}]}]}

``allowed`` is there with ``--allowed COMPONENT``: per instance, the versions it may move to
from here (itself and upgrades: midair rehearses upgrades), and those the policy refuses.
"""

from __future__ import annotations

import sys

from models.skew import Versioned, allowed_moves, check_versions, versions_of
from models.state import (
    APISERVER,
    CLOUD_CONTROLLER_MANAGER,
    CONTROLLER_MANAGER,
    KUBE_PROXY,
    KUBECTL,
    KUBELET,
    SCHEDULER,
)
from sim.commands.common import add_json_flag, add_set_option, output_format, scenario_from, versions_arg
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.render import Table, add_output_option, render

OPTIONS = (
    ("apiserver", APISERVER),
    ("controller_manager", CONTROLLER_MANAGER),
    ("scheduler", SCHEDULER),
    ("cloud_controller_manager", CLOUD_CONTROLLER_MANAGER),
    ("kubelet", KUBELET),
    ("kube_proxy", KUBE_PROXY),
    ("kubectl", KUBECTL),
)


def add_parser(sub) -> None:
    p = sub.add_parser("skew", help="check component versions against the version-skew policy",
                       description="Versions come from --scenario, from the options, or both (an option "
                                   "replaces that component's versions from the scenario). Exit 1 if any "
                                   "rule is violated.")
    p.add_argument("--scenario", metavar="FILE", help="take the versions from a scenario's cluster")
    for dest, component in OPTIONS:
        p.add_argument("--" + dest.replace("_", "-"), dest=dest, action="append", metavar="V",
                       help=f"a {component} version (repeatable, or comma-separated)")
    p.add_argument("--allowed", metavar="COMPONENT", choices=[c for _, c in OPTIONS],
                   help="also list, per instance of COMPONENT, the upgrades it may take from here")
    add_json_flag(p)
    add_set_option(p)
    add_output_option(p, "the violations")
    p.set_defaults(run=run)


def _items_from_options(args) -> dict[str, list[Versioned]]:
    given: dict[str, list[Versioned]] = {}
    for dest, component in OPTIONS:
        versions = versions_arg(getattr(args, dest), "--" + dest.replace("_", "-"))
        if versions:
            given[component] = [Versioned(component, f"{component}-{i}", v) for i, v in enumerate(versions)]
    kubelets, proxies = given.get(KUBELET, []), given.get(KUBE_PROXY, [])
    if kubelets and proxies:
        if len(proxies) not in (1, len(kubelets)):
            raise UsageError("--kube-proxy: give one version, or one per --kubelet (they are paired by position)")
        given[KUBELET] = [Versioned(KUBELET, f"node-{i}", k.version, f"node-{i}") for i, k in enumerate(kubelets)]
        given[KUBE_PROXY] = [Versioned(KUBE_PROXY, f"node-{i}", (proxies[i] if len(proxies) > 1 else proxies[0]).version,
                                       f"node-{i}") for i in range(len(kubelets))]
    return given


def _candidates(item: Versioned):
    """The instance's version and the next three minors: where an upgrade may take it (never back)."""
    return [item.version.add_minors(k) for k in range(0, 4)]


def run(args) -> int:
    items: list[Versioned] = []
    if args.scenario:
        items = list(versions_of(scenario_from(args, args.scenario).cluster))
    given = _items_from_options(args)
    items = [i for i in items if i.component not in given] + [v for vs in given.values() for v in vs]
    if not items:
        raise UsageError("no versions to check: give --scenario FILE or component options such as --apiserver 1.29 --kubelet 1.27")
    violations = check_versions(items)
    allowed = []
    if args.allowed:
        for item in [i for i in items if i.component == args.allowed]:
            moves = allowed_moves(items, item.component, item.name, _candidates(item))
            allowed.append({
                "component": item.component, "subject": item.name, "version": str(item.version),
                "allowed": [str(v) for v, added in moves if not added],
                "refused": [{"version": str(v), "rules": sorted({a.rule for a in added})} for v, added in moves if added],
            })
    doc = {"violations": [v.to_json() for v in violations]}
    if args.allowed:
        doc["allowed"] = allowed
    count = sum(i.count for i in items)
    sys.stdout.write(render(doc, output_format(args), lambda d: text(d, count), tables))
    return EXIT_FINDINGS if violations else EXIT_OK


def text(doc: dict, components: int) -> str:
    lines = [] if doc["violations"] else [f"no skew violations among {components} components"]
    lines += [f"{v['rule']}: {v['reason']}" for v in doc["violations"]]
    lines += [f"{a['subject']} ({a['version']}) may move to: {', '.join(a['allowed']) or 'nothing'}"
              for a in doc.get("allowed", ())]
    return "".join(line + "\n" for line in lines)


def tables(doc: dict) -> list[Table]:
    columns = ("rule", "component", "subject", "version", "bound", "mandatory", "count", "reason")
    out = [Table.of("Violations", columns, [[v[c] for c in columns] for v in doc["violations"]])]
    if "allowed" in doc:
        out.append(Table.of("Allowed moves", ("component", "subject", "version", "allowed", "refused"),
                            [[a["component"], a["subject"], a["version"], a["allowed"],
                              "; ".join(f"{r['version']} ({', '.join(r['rules'])})" for r in a["refused"])]
                             for a in doc["allowed"]]))
    return out
