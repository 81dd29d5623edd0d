"""A tiny reference cluster for sequence tests, in the style of Cluster API's rollout tests.

No simpy, no timing: every action an approved decision asks for becomes an operation
that completes at a later step, either in the order it was started (fixed) or in an
order drawn from a seeded generator (random). The strategy must converge either way.
"""

from __future__ import annotations

import random
from dataclasses import replace

from models.actions import (
    Cordon,
    DeleteNode,
    Drain,
    ProvisionNode,
    Uncordon,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.state import DELETING, DRAINING, IDLE, PROVISIONING, UPGRADING, ClusterState, Node


class FakeCluster:
    def __init__(self, state: ClusterState, order: str = "fixed", seed: int = 0):
        self.state = replace(state, nodes=tuple(replace(n, pods=5) for n in state.nodes))
        self.ops: list = []
        self.order = order
        self.rng = random.Random(seed)
        self.counter = {p.name: p.count for p in state.pools}

    def _nodes(self, fn) -> None:
        self.state = replace(self.state, nodes=tuple(fn(n) for n in self.state.nodes if fn(n) is not None))

    def _node(self, name, **changes) -> None:
        self._nodes(lambda n: replace(n, **changes) if n.name == name else n)

    def apply(self, action) -> None:
        if isinstance(action, Cordon):
            self._node(action.node, schedulable=False)
        elif isinstance(action, Uncordon):
            self._node(action.node, schedulable=True)
        elif isinstance(action, Drain):
            self._node(action.node, schedulable=False, phase=DRAINING)
            self.ops.append(lambda name=action.node: self._node(name, phase=IDLE, pods=0))
        elif isinstance(action, UpgradeNodeInPlace):
            self._node(action.node, phase=UPGRADING)
            self.ops.append(lambda a=action: self._node(a.node, phase=IDLE, kubelet=a.version))
        elif isinstance(action, ProvisionNode):
            self.counter[action.pool] += 1
            pool = self.state.pool(action.pool)
            name = f"{action.pool}-{self.counter[action.pool]}"
            proxy = self.state.addon("kube-proxy").version
            node = Node(name, action.pool, pool.zones[0], action.version, proxy, pool.allocatable,
                        ready=False, phase=PROVISIONING)
            self.state = replace(self.state, nodes=self.state.nodes + (node,))
            self.ops.append(lambda: self._node(name, phase=IDLE, ready=True))
        elif isinstance(action, DeleteNode):
            self._node(action.node, phase=DELETING, ready=False)
            self.ops.append(lambda name=action.node: self._nodes(lambda n: None if n.name == name else n))
        elif isinstance(action, UpgradeControlPlaneInstance):
            self._instance(action.instance, phase=UPGRADING)
            self.ops.append(lambda a=action: self._instance(a.instance, phase=IDLE, version=a.version))
        elif isinstance(action, UpgradeAddon):
            self._addon(action.addon, phase=UPGRADING)

            def finish(a=action):
                self._addon(a.addon, phase=IDLE, version=a.version)
                if a.addon == "kube-proxy":
                    self._nodes(lambda n: replace(n, kube_proxy=a.version))
            self.ops.append(finish)

    def _instance(self, name, **changes) -> None:
        cp = self.state.control_plane
        insts = tuple(replace(i, **changes) if i.name == name else i for i in cp.instances)
        self.state = replace(self.state, control_plane=replace(cp, instances=insts))

    def _addon(self, name, **changes) -> None:
        self.state = replace(self.state, addons=tuple(replace(a, **changes) if a.name == name else a
                                                      for a in self.state.addons))

    def advance(self, until: float) -> None:
        """Let time pass (nothing happens in between: every operation completes by steps)."""
        self.state = replace(self.state, observed_at=max(self.state.observed_at, until))

    def step(self) -> bool:
        """Complete one pending operation; False when none is pending."""
        if not self.ops:
            return False
        k = 0 if self.order == "fixed" else self.rng.randrange(len(self.ops))
        self.ops.pop(k)()
        return True
