"""Label selectors as Kubernetes evaluates them (apimachinery pkg/apis/meta/v1 LabelSelector).

A selector is ``matchLabels`` (each key must have that value) and ``matchExpressions``
(``In``, ``NotIn``, ``Exists``, ``DoesNotExist``), all ANDed. An empty selector matches
every object; what an absent (null) selector means depends on the API that holds it: in
policy/v1 a PodDisruptionBudget's empty selector selects every pod of its namespace
(staging/src/k8s.io/api/policy/v1/types.go), while a null one selects none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown selector operator {self.operator!r}; valid: {', '.join(OPERATORS)}")
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values  # a missing key is not in the set
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels


@dataclass(frozen=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        return (all(labels.get(k) == v for k, v in self.match_labels)
                and all(r.matches(labels) for r in self.match_expressions))

    def describe(self) -> str:
        if self.empty:
            return "every pod"
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for r in self.match_expressions:
            if r.operator in ("In", "NotIn"):
                parts.append(f"{r.key} {'in' if r.operator == 'In' else 'notin'} ({','.join(r.values)})")
            else:
                parts.append(r.key if r.operator == "Exists" else f"!{r.key}")
        return ",".join(parts)


def selector_from_json(obj: Mapping | None) -> LabelSelector | None:
    """A selector from its API form (``{"matchLabels": ..., "matchExpressions": [...]}``); None stays None.

    Raises ``ValueError`` for an operator Kubernetes does not know.
    """
    if obj is None:
        return None
    labels = tuple(sorted((str(k), str(v)) for k, v in (obj.get("matchLabels") or {}).items()))
    exprs = tuple(Requirement(str(e.get("key", "")), str(e.get("operator", "")),
                              tuple(str(v) for v in e.get("values") or ()))
                  for e in obj.get("matchExpressions") or ())
    return LabelSelector(labels, exprs)
