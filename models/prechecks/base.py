"""The records of the pre-checks: findings, the context they read, and the check registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from models.plan import BatchSize
from models.state import ClusterState
from models.version import KubeVersion

BLOCK = "BLOCK"
WARN = "WARN"
INFO = "INFO"
SEVERITY_ORDER = {BLOCK: 0, WARN: 1, INFO: 2}
FAMILIES = ("core", "node", "cloud", "skew", "apis", "disruption", "scheduling", "admission", "capacity")
FAMILY_TITLES = {
    "core": "Core components", "node": "Node configuration", "cloud": "Cloud resources", "skew": "Version skew",
    "apis": "Removed APIs", "disruption": "Disruption risks", "scheduling": "Scheduling constraints",
    "admission": "Admission webhooks", "capacity": "Capacity",
}


@dataclass(frozen=True)
class Finding:
    id: str
    family: str
    severity: str
    subject: str
    reason: str
    fix: str

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "severity": self.severity, "subject": self.subject,
                "reason": self.reason, "fix": self.fix}

    def line(self) -> str:
        return f"{self.severity:<5} {self.id}  {self.subject}: {self.reason}. Fix: {self.fix}"


@dataclass(frozen=True)
class Traits:
    """What a strategy will do to nodes, as far as the pre-checks care."""

    strategy: str = "any"
    creates_nodes: bool = True
    drains: bool = True
    in_place: bool = True
    batches: tuple[tuple[str, BatchSize], ...] = ()

    def batch(self, pool: str) -> BatchSize:
        # without a strategy's knobs: one node out at a time, no surge
        return dict(self.batches).get(pool, BatchSize(0, 1))


@dataclass(frozen=True)
class ManifestRef:
    """One object in the user's manifests: where it is and what API it uses."""

    file: str
    line: int
    api_version: str
    kind: str
    name: str = ""
    release: str = ""  # the Helm release (namespace/name) that manages it, when known


@dataclass(frozen=True)
class Context:
    state: ClusterState
    target: KubeVersion
    hops: tuple[KubeVersion, ...]  # every version the control plane passes, the target last
    traits: Traits = Traits()
    manifests: tuple[ManifestRef, ...] = ()
    manifest_problems: tuple[tuple[str, int, str], ...] = ()
    path_error: str | None = None


@dataclass(frozen=True)
class Check:
    id: str
    family: str
    severity: str  # the most severe finding it can produce
    summary: str
    fn: Callable[[Context, Check], Iterable[Finding]] = field(compare=False)
    needs: str | None = None  # "host" or "cloud": what the state must have observed for it to run

    def findings(self, ctx: Context) -> list[Finding]:
        if self.needs in ctx.state.unobserved:
            return []
        return list(self.fn(ctx, self))

    def finding(self, severity: str, subject: str, reason: str, fix: str) -> Finding:
        return Finding(self.id, self.family, severity, subject, reason, fix)


def check(registry: list, id: str, family: str, severity: str, summary: str, needs: str | None = None):
    """Decorator: register a check function ``fn(ctx, check)`` under a stable id."""
    def wrap(fn):
        registry.append(Check(id, family, severity, summary, fn, needs))
        return fn
    return wrap


def not_observed(registry: list, need: str, what: str, fix: str):
    """A function for the INFO check saying which of ``registry``'s checks did not run because
    the state could not observe ``need``."""
    def fn(ctx, c):
        if need in ctx.state.unobserved:
            skipped = ", ".join(x.id for x in registry if x.needs == need)
            yield c.finding(INFO, "cluster", f"this view does not show {what}, so these checks did not run: {skipped}",
                            fix)
    return fn
