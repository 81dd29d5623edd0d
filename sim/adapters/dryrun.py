"""A port that records what would be done and applies nothing.

It wraps another port: views come from it, actions stop here. Dry-run is this
wrapper, never ``if dry_run:`` checks scattered through the code.
"""

from __future__ import annotations

from models.actions import Action
from sim.adapters.port import ClusterPort, SubmitResult


class DryRunPort:
    def __init__(self, inner: ClusterPort):
        self.inner = inner
        self.recorded: list[tuple[float, Action]] = []

    def observe(self):
        return self.inner.observe()

    def submit(self, action: Action) -> SubmitResult:
        self.recorded.append((self.inner.now(), action))
        return SubmitResult(True, "dry run: not applied")

    def now(self) -> float:
        return self.inner.now()

    def changed(self):
        return self.inner.changed()

    def drive(self, loop):
        return self.inner.drive(loop)
