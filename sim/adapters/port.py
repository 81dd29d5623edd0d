"""The ``ClusterPort`` protocol: everything the runner may do to a cluster.

``observe()`` returns a frozen ``ClusterState`` (the view strategies see); ``submit()``
hands over one action and says whether it was accepted (its effects show up in later
views); ``now()`` is the cluster's clock in seconds; ``changed()`` gives something the
port's driver can wait on until the cluster changes. ``drive()`` runs the runner's
generator: each value it yields is the time by which it wants to look again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from models.actions import Action
from models.state import ClusterState


@dataclass(frozen=True)
class SubmitResult:
    accepted: bool
    message: str = ""
    # refused for good (asking again cannot help, e.g. no hook for the action): the loop halts
    permanent: bool = False


@dataclass(frozen=True)
class PortEvent:
    """Something a live port saw between decisions, for the journal: an operation it ran ended
    (``completed``, with how long after its submission; ``component`` names what it was done to:
    ``node``, ``pool`` or a control-plane component), or the API answered again after an outage
    (``waited``, with how long it did not)."""

    t: float
    kind: str
    action: str
    detail: str = ""
    duration_s: float | None = None
    component: str = ""


class ClusterPort(Protocol):
    def observe(self) -> ClusterState: ...

    def submit(self, action: Action) -> SubmitResult: ...

    def now(self) -> float: ...

    def changed(self) -> Any: ...

    def drive(self, loop) -> Any: ...
