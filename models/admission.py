"""Admission webhooks as the API server calls them, and which requests they see.

A webhook (admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration or
MutatingWebhookConfiguration) is called for a request that one of its rules matches
(operation, API group, resource and subresource, scope), in a namespace its
``namespaceSelector`` picks, on an object its ``objectSelector`` picks
(k8s.io/apiserver pkg/admission/plugin/webhook: predicates/rules, namespace and object
matchers). A request to a webhook that cannot answer (its Service has no Ready endpoint,
or the call times out after ``timeoutSeconds``) fails with ``failurePolicy: Fail`` and
goes through with ``Ignore``. In v1 the default policy is Fail and the default timeout 10 s
(at most 30).

midair's namespaces carry one label, the one every namespace has since 1.21:
``kubernetes.io/metadata.name: NAME``; a namespace selector is evaluated against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.selectors import LabelSelector

VALIDATING, MUTATING = "validating", "mutating"
WEBHOOK_TYPES = (VALIDATING, MUTATING)
FAIL, IGNORE = "Fail", "Ignore"
FAILURE_POLICIES = (FAIL, IGNORE)
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT", "*")
SCOPES = ("Cluster", "Namespaced", "*")
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 30.0
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
KUBE_SYSTEM = "kube-system"
NODE_LEASES = "kube-node-lease"

# The requests midair's cluster makes that a webhook can stand in the way of.
CREATE, UPDATE = "CREATE", "UPDATE"


@dataclass(frozen=True)
class Request:
    """One API request as admission sees it (``group`` "" is the core group)."""

    operation: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""  # "" for cluster-scoped objects
    labels: tuple[tuple[str, str], ...] = ()


def pod_creation(namespace: str, labels: dict[str, str]) -> Request:
    return Request(CREATE, "", "pods", "", namespace, tuple(sorted(labels.items())))


NODE_REGISTRATION = Request(CREATE, "", "nodes")  # a kubelet registers its Node
NODE_STATUS = Request(UPDATE, "", "nodes", "status")  # a kubelet posts its node's conditions
LEASE_RENEWAL = Request(UPDATE, "coordination.k8s.io", "leases", "", NODE_LEASES)  # a kubelet's heartbeat


@dataclass(frozen=True)
class WebhookRule:
    operations: tuple[str, ...] = ("*",)
    api_groups: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    scope: str = "*"

    def matches(self, r: Request) -> bool:
        if "*" not in self.operations and r.operation not in self.operations:
            return False
        if "*" not in self.api_groups and r.group not in self.api_groups:
            return False
        if self.scope == "Cluster" and r.namespace or self.scope == "Namespaced" and not r.namespace:
            return False
        for entry in self.resources:
            resource, _, sub = entry.partition("/")
            if resource in ("*", r.resource) and sub in ("*", r.subresource):
                return True  # "pods" is pods only; "pods/*" its subresources; "*" every resource; "*/*" all
        return False


@dataclass(frozen=True)
class Webhook:
    """One webhook of a configuration; ``service`` is the key (``namespace/name``) of the workload
    whose Ready pods answer it (None: it is served from outside the cluster, by URL)."""

    name: str
    kind: str = VALIDATING
    rules: tuple[WebhookRule, ...] = ()
    failure_policy: str = FAIL
    timeout_s: float = DEFAULT_TIMEOUT_S
    namespace_selector: LabelSelector | None = None  # None: every namespace
    object_selector: LabelSelector | None = None  # None: every object
    service: str | None = None

    def matches(self, r: Request) -> bool:
        if not any(rule.matches(r) for rule in self.rules):
            return False
        if r.namespace and self.namespace_selector is not None \
                and not self.namespace_selector.matches({NAMESPACE_NAME_LABEL: r.namespace}):
            return False  # a cluster-scoped object is never skipped for its namespace
        return self.object_selector is None or self.object_selector.matches(dict(r.labels))

    @property
    def fails_closed(self) -> bool:
        return self.failure_policy == FAIL


def refusal(webhook: Webhook, why: str) -> str:
    """The API server's answer to a request a failing webhook stopped (failurePolicy Fail)."""
    return f'Internal error occurred: failed calling webhook "{webhook.name}": {why}'
