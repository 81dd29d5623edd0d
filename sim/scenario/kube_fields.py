"""The parts of the scenario format that are Kubernetes' own structures, with Kubernetes' field
names: label selectors, node and pod affinity, tolerations and taints, topology spread
constraints, storage claims, PriorityClasses and admission webhooks.

Each shape is a ``Ref``: written once here, documented once in docs/scenario-format.md under
its title, used wherever a pod spec or a cluster object has it. The rules that span fields
(an ``In`` without values, a ``tolerationSeconds`` without NoExecute, a webhook served by a
workload that does not exist) are checked in ``sim.scenario.placement`` and ``sim.scenario.webhooks``.
"""

from __future__ import annotations

from models.admission import FAILURE_POLICIES, MAX_TIMEOUT_S, OPERATIONS, SCOPES, WEBHOOK_TYPES
from models.constraints import (
    NODE_OPERATORS,
    PREEMPTION_POLICIES,
    TAINT_EFFECTS,
    TOLERATION_OPERATORS,
    WHEN_UNSATISFIABLE,
)
from models.selectors import OPERATORS
from models.storage import STORAGE_KINDS
from sim.scenario.schema import (
    REQUIRED,
    Bool,
    Enum,
    Field,
    Int,
    ListOf,
    MapOf,
    Name,
    Num,
    Obj,
    Quantity,
    Ref,
    Str,
)


class GroupName(Str):
    """An API group; "" (the core group) is a valid one."""

    def check(self, value, path, ck):
        return value if value == "" else super().check(value, path, ck)


SELECTOR_REQUIREMENT = Obj(name="selector requirement", fields={
    "key": Field(Str(example="app"), REQUIRED),
    "operator": Field(Enum(choices=OPERATORS), REQUIRED),
    "values": Field(ListOf(item=Str(example="web")), None, "for In and NotIn"),
})
LABEL_SELECTOR_SHAPE = Obj(name="label selector", fields={
    "matchLabels": Field(MapOf(value=Str(example="web")), None),
    "matchExpressions": Field(ListOf(item=SELECTOR_REQUIREMENT), None),
})
LABEL_SELECTOR = Ref(title="LabelSelector", shape=LABEL_SELECTOR_SHAPE)

NODE_REQUIREMENT = Obj(name="node selector requirement", fields={
    "key": Field(Str(example="topology.kubernetes.io/zone"), REQUIRED),
    "operator": Field(Enum(choices=NODE_OPERATORS), REQUIRED),
    "values": Field(ListOf(item=Str(example="a")), None, "one or more for In and NotIn, one whole number for Gt and Lt"),
})
NODE_SELECTOR_TERM = Ref(title="NodeSelectorTerm", shape=Obj(name="node selector term", fields={
    "matchExpressions": Field(ListOf(item=NODE_REQUIREMENT), None, "requirements on the node's labels"),
    "matchFields": Field(ListOf(item=NODE_REQUIREMENT), None, "requirements on its fields: only metadata.name"),
}))
NODE_AFFINITY = Ref(title="NodeAffinity", shape=Obj(name="node affinity", fields={
    "requiredDuringSchedulingIgnoredDuringExecution": Field(Obj(name="node selector", fields={
        "nodeSelectorTerms": Field(ListOf(item=NODE_SELECTOR_TERM, min_items=1), REQUIRED),
    }), None),
    "preferredDuringSchedulingIgnoredDuringExecution": Field(ListOf(item=Obj(name="preferred scheduling term", fields={
        "weight": Field(Int(min=1, max=100), REQUIRED),
        "preference": Field(NODE_SELECTOR_TERM, REQUIRED),
    })), None),
}))
POD_AFFINITY_TERM = Ref(title="PodAffinityTerm", shape=Obj(name="pod affinity term", fields={
    "labelSelector": Field(LABEL_SELECTOR, None, "the pods it counts; none: no pod"),
    "topologyKey": Field(Str(example="topology.kubernetes.io/zone"), REQUIRED),
    "namespaces": Field(ListOf(item=Name(example="default")), None),
    "namespaceSelector": Field(LABEL_SELECTOR, None),
}))
POD_AFFINITY = Ref(title="PodAffinity", shape=Obj(name="pod affinity", fields={
    "requiredDuringSchedulingIgnoredDuringExecution": Field(ListOf(item=POD_AFFINITY_TERM), None),
    "preferredDuringSchedulingIgnoredDuringExecution": Field(ListOf(item=Obj(name="weighted pod affinity term", fields={
        "weight": Field(Int(min=1, max=100), REQUIRED),
        "podAffinityTerm": Field(POD_AFFINITY_TERM, REQUIRED),
    })), None),
}))
AFFINITY = Obj(name="affinity", fields={
    "nodeAffinity": Field(NODE_AFFINITY, None),
    "podAffinity": Field(POD_AFFINITY, None),
    "podAntiAffinity": Field(POD_AFFINITY, None),
})
TOLERATION = Ref(title="Toleration", shape=Obj(name="toleration", fields={
    "key": Field(Str(example="dedicated"), None, "none (with operator Exists): every key"),
    "operator": Field(Enum(choices=TOLERATION_OPERATORS), "Equal"),
    "value": Field(Str(example="batch"), None),
    "effect": Field(Enum(choices=TAINT_EFFECTS), None, "none: every effect"),
    "tolerationSeconds": Field(Num(min=0), None, "NoExecute only: how long the pod stays after the taint"),
}))
TAINT = Ref(title="Taint", shape=Obj(name="taint", fields={
    "key": Field(Str(example="dedicated"), REQUIRED),
    "value": Field(Str(example="batch"), None),
    "effect": Field(Enum(choices=TAINT_EFFECTS), REQUIRED),
}))
SPREAD_CONSTRAINT = Ref(title="TopologySpreadConstraint", shape=Obj(name="topology spread constraint", fields={
    "maxSkew": Field(Int(min=1), REQUIRED),
    "topologyKey": Field(Str(example="topology.kubernetes.io/zone"), REQUIRED),
    "whenUnsatisfiable": Field(Enum(choices=WHEN_UNSATISFIABLE), REQUIRED),
    "labelSelector": Field(LABEL_SELECTOR, None, "the pods it counts; none: no pod"),
    "minDomains": Field(Int(min=1), None, "DoNotSchedule only"),
    "nodeAffinityPolicy": Field(Enum(choices=("Honor", "Ignore")), "Honor"),
    "nodeTaintsPolicy": Field(Enum(choices=("Honor", "Ignore")), "Ignore"),
}))
STORAGE = Obj(name="storage claim", fields={
    "class": Field(Enum(choices=STORAGE_KINDS), REQUIRED, "zonal block storage, shared file storage, or the node's disk"),
    "size": Field(Quantity(kind="memory"), None, "what each pod claims, e.g. 10Gi"),
})

PRIORITY_CLASS = Obj(name="PriorityClass", fields={
    "name": Field(Name(example="critical", kind="subdomain"), REQUIRED),
    "value": Field(Int(min=-2_147_483_648, max=1_000_000_000,
                       why_max="user-defined PriorityClasses go up to 1,000,000,000; higher values are the system's"),
                   REQUIRED),
    "preemptionPolicy": Field(Enum(choices=PREEMPTION_POLICIES), "PreemptLowerPriority"),
    "globalDefault": Field(Bool(), False, "the priority of pods that name no class"),
})

WEBHOOK_RULE = Ref(title="RuleWithOperations", shape=Obj(name="webhook rule", fields={
    "operations": Field(ListOf(item=Enum(choices=OPERATIONS), min_items=1), REQUIRED),
    "apiGroups": Field(ListOf(item=GroupName(example="apps")), ["*"], "\"\" is the core group"),
    "resources": Field(ListOf(item=Str(example="pods"), min_items=1), REQUIRED),
    "scope": Field(Enum(choices=SCOPES), "*"),
}))
WEBHOOK = Obj(name="webhook", fields={
    "name": Field(Str(example="validate.policy.example.com"), REQUIRED),
    "type": Field(Enum(choices=WEBHOOK_TYPES), "validating"),
    "rules": Field(ListOf(item=WEBHOOK_RULE, min_items=1), REQUIRED),
    "failurePolicy": Field(Enum(choices=FAILURE_POLICIES), "Fail"),
    "timeoutSeconds": Field(Int(min=1, max=int(MAX_TIMEOUT_S)), 10),
    "namespaceSelector": Field(LABEL_SELECTOR, None, "none: every namespace"),
    "objectSelector": Field(LABEL_SELECTOR, None, "none: every object"),
    "service": Field(Obj(name="webhook service", fields={
        "namespace": Field(Name(example="policy"), "default"),
        "workload": Field(Name(example="policy-controller", kind="subdomain"), REQUIRED),
    }), None, "the workload whose Ready pods serve it; none: served from outside the cluster"),
})

# A workload's pod-spec fields that decide where its pods run.
SCHEDULING_FIELDS = {
    "nodeSelector": Field(MapOf(value=Str(example="ssd")), None, "labels a node must have"),
    "affinity": Field(AFFINITY, None),
    "tolerations": Field(ListOf(item=TOLERATION), None),
    "topologySpreadConstraints": Field(ListOf(item=SPREAD_CONSTRAINT), None),
    "priorityClassName": Field(Name(example="critical", kind="subdomain"), None),
    "storage": Field(STORAGE, None, "a volume per pod: zonal, shared or local"),
}
