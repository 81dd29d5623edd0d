"""Run the pre-checks for a scenario (or a live cluster) and a strategy: the acting side of
``models.prechecks`` (reading the manifests, knowing the strategies), and their text form."""

from __future__ import annotations

from dataclasses import replace

from models.plan import resolve_batch
from models.prechecks import FAMILIES, FAMILY_TITLES, Finding, Traits, run_prechecks
from models.state import ClusterState
from models.version import KubeVersion
from sim import registry
from sim.manifests import scan
from sim.scenario.model import Scenario, StrategySpec
from sim.style import severity


def traits_for(spec: StrategySpec | None, state: ClusterState) -> Traits:
    if spec is None:
        return Traits()
    cls = registry.strategy_class(spec.name)
    traits = cls.traits(spec.kwargs()) if hasattr(cls, "traits") else Traits(spec.label)
    params = spec.kwargs()
    batches = tuple((p.name, resolve_batch(params.get("maxSurge"), params.get("maxUnavailable"), p.count))
                    for p in state.pools) if "maxSurge" in params else ()
    return replace(traits, strategy=spec.label, batches=batches)


def check_cluster(state: ClusterState, target: KubeVersion, spec: StrategySpec | None = None,
                  manifests: tuple[str, ...] = (), more: tuple[list, list] = ([], [])) -> list[Finding]:
    """The findings; ``more`` adds objects read elsewhere (a live cluster's Helm releases) and their problems."""
    refs, problems = scan(manifests) if manifests else ([], [])
    return run_prechecks(state, target, traits_for(spec, state), [*refs, *more[0]], [*problems, *more[1]])


def findings_for(scenario: Scenario, spec: StrategySpec | None = None) -> list[Finding]:
    """The findings on a scenario's cluster for one of its strategies (None: any strategy)."""
    return check_cluster(scenario.cluster, scenario.target, spec, scenario.manifests)


def format_findings(findings: list[Finding], colour: bool = False) -> str:
    """The findings grouped by family, as a person reads them; BLOCK and WARN in colour when ``colour``."""
    if not findings:
        return "no findings: nothing blocks the upgrade\n"
    lines = []
    for family in FAMILIES:
        group = [f for f in findings if f.family == family]
        if not group:
            continue
        lines.append(f"{FAMILY_TITLES[family]}:")
        for f in group:
            lines.append(f"  {severity(f'{f.severity:<5}', f.severity, colour)} {f.id}  {f.subject}")
            lines.append(f"        {f.reason}")
            lines.append(f"        fix: {f.fix}")
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("BLOCK", "WARN", "INFO")}
    lines.append(f"{counts['BLOCK']} blocking, {counts['WARN']} warning(s), {counts['INFO']} note(s)")
    return "\n".join(lines) + "\n"
