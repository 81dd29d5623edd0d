"""``midair precheck``: the pre-upgrade checks, grouped by family, most severe first. With ``--live``
the removed-API check also reads the cluster's deployed Helm 3 releases (``sim.adapters.helm``).

The document (``-o json`` / ``-o yaml``; ``--json`` is ``-o json``)::

    {"findings": [{"id", "family", "severity", "subject", "reason", "fix"}]}

Ids are listed in docs/prechecks.md; the severities are BLOCK, WARN and INFO.
"""

from __future__ import annotations

import os
import sys

from sim.commands.common import add_json_flag, add_set_option, output_format, scenario_from, strategies_named, version_arg
from sim.commands.live_common import add_kube_options, connect
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.prechecks import check_cluster, format_findings
from sim.render import Table, add_output_option, render
from sim.scenario.model import LiveSettings
from sim.style import colour_allowed


def add_parser(sub) -> None:
    p = sub.add_parser("precheck", help="check a cluster before its upgrade; exit 1 if anything blocks",
                       description="Checks a scenario's cluster, or with --live the cluster of a kubeconfig context. "
                                   "Finding ids are listed in docs/prechecks.md.")
    p.add_argument("scenario", metavar="SCENARIO", nargs="?", help="the scenario (optional with --live)")
    p.add_argument("--to", dest="target", metavar="V", help="the target version (default: the scenario's)")
    p.add_argument("--strategy", metavar="NAME", help="check for this strategy: the scenario's, or any built-in "
                                                     "strategy or preset with its defaults (default: for any)")
    p.add_argument("--live", action="store_true", help="check the live cluster of --context instead")
    p.add_argument("--manifests", action="append", default=[], metavar="PATH",
                   help="also scan these files or directories for removed APIs (repeatable)")
    add_kube_options(p)
    add_json_flag(p)
    add_set_option(p)
    add_output_option(p, "the findings")
    p.set_defaults(run=run)


def helm_refs(found) -> tuple[list, list]:
    """The objects of the cluster's deployed Helm releases, for the removed-API check; a release that cannot be
    decoded is a problem of its own (apis.unreadable)."""
    from sim.adapters.helm import release_refs

    if found is None:
        return [], []
    releases, unreadable = found
    refs, problems = release_refs(releases)
    return refs, [*problems, *((text.split(":", 1)[0], 0, text.split(": ", 1)[-1]) for text in unreadable)]


def run(args) -> int:
    if not args.scenario and not args.live:
        raise UsageError("give a SCENARIO, or --live --to V for the cluster of a kubeconfig context")
    if not args.scenario and not args.target:
        raise UsageError("--live without a scenario needs --to V, the target version")
    for path in args.manifests:
        if not os.path.exists(path):
            raise UsageError(f"--manifests {path}: no such file or directory")
    scenario = scenario_from(args, args.scenario) if args.scenario else None
    target = version_arg(args.target, "--to") if args.target else scenario.target
    helm: tuple[list, list] = ([], [])
    if args.live:
        port = connect(args, scenario.live if scenario else LiveSettings())
        try:
            state = port.observe()
            helm = helm_refs(port.helm_releases())
        finally:
            port.close()
    else:
        state = scenario.cluster
    if target < state.oldest_apiserver:
        raise UsageError(f"--to {target} is older than the cluster's control plane {state.oldest_apiserver}; "
                         f"midair checks upgrades (valid: {state.oldest_apiserver} or newer)")
    # the scenario's own entry when it has one, else the strategy (or preset) with its defaults: as run does
    spec = strategies_named(scenario, [args.strategy], state.pools)[0] if args.strategy else None
    manifests = (scenario.manifests if scenario else ()) + tuple(args.manifests)
    findings = check_cluster(state, target, spec, manifests, helm)
    colour = colour_allowed(sys.stdout)
    doc = {"findings": [f.to_json() for f in findings]}
    sys.stdout.write(render(doc, output_format(args), lambda _: format_findings(findings, colour), tables))
    return EXIT_FINDINGS if any(f.severity == "BLOCK" for f in findings) else EXIT_OK


def tables(doc: dict) -> list[Table]:
    columns = ("severity", "id", "family", "subject", "reason", "fix")
    return [Table.of("Findings", columns, [[f[c] for c in columns] for f in doc["findings"]])]
