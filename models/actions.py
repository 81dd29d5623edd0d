"""What a strategy may ask for: frozen action records, each with a reason a person can read.

Actions are intents; an adapter applies them (the simulated world, or a live cluster
through the Kubernetes API and hook commands). Their effects show up in the next
observed state, which is how a level-triggered strategy knows they happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from models.drain import DrainOptions
from models.version import KubeVersion


@dataclass(frozen=True)
class Action:
    reason: str

    #: does applying it need the Kubernetes API (as opposed to a machine or a cloud)?
    needs_api = True

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def subject(self) -> str:
        return ""

    def describe(self) -> str:
        return f"{self.kind} {self.subject}".strip()

    def to_json(self) -> dict:
        data = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, KubeVersion):
                value = str(value)
            elif isinstance(value, DrainOptions):
                value = value.to_json()
            data[f.name] = value
        return data


@dataclass(frozen=True)
class Cordon(Action):
    node: str = ""

    @property
    def subject(self) -> str:
        return f"node/{self.node}"


@dataclass(frozen=True)
class Uncordon(Action):
    node: str = ""

    @property
    def subject(self) -> str:
        return f"node/{self.node}"


@dataclass(frozen=True)
class Drain(Action):
    """Cordon the node and evict its pods through their budgets, as kubectl drain with ``options``
    does (``models.drain``).

    ``timeout_s`` 0 waits forever; ``force`` deletes whatever can be deleted without asking any
    budget (a strategy's ``undrainable: force``; ``models.drain.FORCED``).
    """

    node: str = ""
    timeout_s: float = 0.0
    force: bool = False
    options: DrainOptions = DrainOptions()

    @property
    def subject(self) -> str:
        return f"node/{self.node}"

    def describe(self) -> str:
        return f"Drain node/{self.node}" + (" (force)" if self.force else "")


@dataclass(frozen=True)
class Taint(Action):
    """Add a taint to a node (replacing one with the same key): ``NoSchedule`` keeps new pods off it,
    ``PreferNoSchedule`` sends them elsewhere when they fit elsewhere."""

    node: str = ""
    key: str = ""
    effect: str = ""
    value: str = ""

    @property
    def subject(self) -> str:
        return f"node/{self.node}"

    def describe(self) -> str:
        return f"Taint node/{self.node} {self.key}={self.value}:{self.effect}" if self.value else \
            f"Taint node/{self.node} {self.key}:{self.effect}"


@dataclass(frozen=True)
class Untaint(Action):
    node: str = ""
    key: str = ""

    @property
    def subject(self) -> str:
        return f"node/{self.node}"

    def describe(self) -> str:
        return f"Untaint node/{self.node} {self.key}"


@dataclass(frozen=True)
class Annotate(Action):
    """Set an annotation on a node (``value`` None removes it), as ``kubectl annotate node`` does:
    ``cluster-autoscaler.kubernetes.io/scale-down-disabled: "true"`` keeps cluster-autoscaler from
    removing the node (pauseAutoscaler)."""

    node: str = ""
    key: str = ""
    value: str | None = None

    @property
    def subject(self) -> str:
        return f"node/{self.node}"

    def describe(self) -> str:
        return f"Annotate node/{self.node} {self.key}-" if self.value is None else \
            f"Annotate node/{self.node} {self.key}={self.value}"


@dataclass(frozen=True)
class UpgradeNodeInPlace(Action):
    node: str = ""
    version: KubeVersion | None = None
    needs_api = False

    @property
    def subject(self) -> str:
        return f"node/{self.node}"

    def describe(self) -> str:
        return f"UpgradeNodeInPlace node/{self.node} to {self.version}"


@dataclass(frozen=True)
class ProvisionNode(Action):
    """Add a machine to a pool at ``version``; in ``zone`` when the strategy needs one there (""
    lets the cloud balance the pool's zones)."""

    pool: str = ""
    version: KubeVersion | None = None
    zone: str = ""
    needs_api = False

    @property
    def subject(self) -> str:
        return f"pool/{self.pool}"

    def describe(self) -> str:
        where = f" zone/{self.zone}" if self.zone else ""
        return f"ProvisionNode in pool/{self.pool}{where} at {self.version}"


@dataclass(frozen=True)
class DeleteNode(Action):
    node: str = ""
    force: bool = False
    needs_api = False

    @property
    def subject(self) -> str:
        return f"node/{self.node}"


@dataclass(frozen=True)
class UpgradeControlPlaneInstance(Action):
    """Replace one control-plane instance with one at ``version``; with ``surge`` the new one
    starts before the old one stops."""

    instance: str = ""
    version: KubeVersion | None = None
    surge: bool = False
    needs_api = False

    @property
    def subject(self) -> str:
        return f"instance/{self.instance}"

    def describe(self) -> str:
        return f"UpgradeControlPlaneInstance {self.instance} to {self.version}" + (" (surge)" if self.surge else "")


@dataclass(frozen=True)
class UpgradeAddon(Action):
    addon: str = ""
    version: KubeVersion | None = None

    @property
    def subject(self) -> str:
        return f"addon/{self.addon}"

    def describe(self) -> str:
        return f"UpgradeAddon {self.addon} to {self.version}"


@dataclass(frozen=True)
class Halt(Action):
    """Stop the upgrade and leave the cluster as it is; the reason says why."""

    needs_api = False


ACTION_TYPES = {cls.__name__: cls for cls in
                (Cordon, Uncordon, Drain, Taint, Untaint, Annotate, UpgradeNodeInPlace, ProvisionNode, DeleteNode,
                 UpgradeControlPlaneInstance, UpgradeAddon, Halt)}


def action_from_json(data: dict) -> Action:
    """The inverse of ``Action.to_json`` (used by journals)."""
    data = dict(data)
    cls = ACTION_TYPES[data.pop("kind")]
    if data.get("version") is not None:
        data["version"] = KubeVersion.parse(data["version"])
    if isinstance(data.get("options"), dict):
        data["options"] = DrainOptions.from_json(data["options"])
    return cls(**data)


def action_key(action: Action) -> str:
    """A stable identity of what an action does, ignoring its reason (for journals and traces)."""
    data = asdict(action)
    data.pop("reason")
    body = ",".join(f"{k}={v}" for k, v in sorted(data.items()))
    return f"{action.kind}({body})"
