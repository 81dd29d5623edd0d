"""The scenario's blocks about what runs around an upgrade: ``services:`` (the traffic its pods
serve), ``autoscaler:`` (a cluster-autoscaler), ``annotations:`` (the upstream annotations that
autoscalers honour) and ``startTime`` (when, in UTC, the rehearsal begins: maintenance windows
and scheduled budgets need a wall clock). Documented field by field in docs/scenario-format.md;
the rules across fields live in ``sim.scenario.context``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from models.schedule import parse_time
from sim.scenario.schema import REQUIRED, Bool, Duration, Enum, Field, Int, ListOf, MapOf, Name, Num, Obj, Spec

# a Monday morning, so that a weekend maintenance window is days away unless a scenario says otherwise
DEFAULT_START_TIME = "2026-01-05T10:00:00Z"


@dataclass
class Time(Spec):
    """An RFC 3339 time in UTC, as seconds since the epoch."""

    def check(self, value, path, ck):
        text = value
        if isinstance(value, datetime):  # YAML reads an unquoted time itself; one without a zone is UTC (YAML 1.1)
            text = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
        try:
            return parse_time(text)
        except ValueError as exc:
            return ck.fail(path, str(exc))

    def describe(self):
        return "time, e.g. 2026-01-05T10:00:00Z"


@dataclass
class AnnotationValue(Spec):
    """An annotation's value: text; ``true`` and ``false`` as YAML reads them become the text."""

    def check(self, value, path, ck):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        return ck.fail(path, f"expected text such as \"true\", got {value!r}")

    def describe(self):
        return "text"


SERVICE = Obj(name="service", fields={
    "name": Field(Name(example="web"), REQUIRED),
    "namespace": Field(Name(example="default"), "default"),
    "workload": Field(Name(example="web", kind="subdomain"), REQUIRED, "the workload of its namespace whose pods back it"),
    "requestsPerSecond": Field(Num(min=0, above_min=True), REQUIRED, "requests it receives, spread over its endpoints"),
    "externalTrafficPolicy": Field(Enum(choices=("Cluster", "Local")), "Cluster"),
    "loadBalancer": Field(Bool(), False, "requests come through a cloud load balancer (type: LoadBalancer)"),
})

AUTOSCALED_POOL = Obj(name="autoscaled pool", fields={
    "name": Field(Name(example="general"), REQUIRED),
    "minNodes": Field(Int(min=0), None, "default: the pool's count"),
    "maxNodes": Field(Int(min=0), None, "default: twice the pool's count (at least one more)"),
})

AUTOSCALER = Obj(name="autoscaler", fields={
    "enabled": Field(Bool(), True),
    "pools": Field(ListOf(item=AUTOSCALED_POOL), None, "the pools it scales (default: every pool)"),
    "scanInterval": Field(Duration(), 10.0, "--scan-interval"),
    "scaleDownEnabled": Field(Bool(), True, "--scale-down-enabled"),
    "scaleDownUnneededTime": Field(Duration(), 600.0, "--scale-down-unneeded-time"),
    "scaleDownUnreadyTime": Field(Duration(), 1200.0, "--scale-down-unready-time"),
    "scaleDownDelayAfterAdd": Field(Duration(), 600.0, "--scale-down-delay-after-add"),
    "scaleDownDelayAfterDelete": Field(Duration(), None, "--scale-down-delay-after-delete (default: scanInterval)"),
    "scaleDownDelayAfterFailure": Field(Duration(), 180.0, "--scale-down-delay-after-failure"),
    "scaleDownUtilizationThreshold": Field(Num(min=0, max=1), 0.5, "--scale-down-utilization-threshold"),
    "maxEmptyBulkDelete": Field(Int(min=1), 10, "--max-empty-bulk-delete"),
    "maxPodEvictionTime": Field(Duration(), 120.0, "--max-pod-eviction-time"),
    "newPodScaleUpDelay": Field(Duration(), 0.0, "--new-pod-scale-up-delay"),
})

ANNOTATIONS = Obj(name="annotations", fields={
    "workloads": Field(MapOf(value=MapOf(value=AnnotationValue())), None,
                       "its pods' annotations, by workload (NAME or NAMESPACE/NAME)"),
    "nodes": Field(MapOf(value=MapOf(value=AnnotationValue())), None, "a node's annotations, by node name"),
})

CONTEXT_FIELDS = {
    "services": Field(ListOf(item=SERVICE), [], "the traffic the workloads serve"),
    "autoscaler": Field(AUTOSCALER, None, "a cluster-autoscaler acting during the upgrade"),
    "annotations": Field(ANNOTATIONS, None, "annotations that the autoscalers honour"),
    "startTime": Field(Time(), parse_time(DEFAULT_START_TIME), "when the rehearsal begins (UTC)"),
}
