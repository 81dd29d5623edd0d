"""Fault injection: the scenario's ``faults:`` list, applied to the world from a seeded stream.

The world asks this object at every opportunity for a fault (an in-place step, a
provisioning, an image pull, ...). With no faults configured every answer is "no fault".
"""

from __future__ import annotations

import random


class Faults:
    def __init__(self, world, specs, rng: random.Random):
        self.world = world
        self.specs = tuple(specs)
        self.rng = rng

    def start(self) -> None:
        pass

    def image_pull_factor(self) -> float:
        return 1.0

    def pod_fails_to_start(self, pod) -> bool:
        return False

    def node_healthy(self, node) -> bool:
        return True

    def kubelet_start_problem(self, node) -> str | None:
        return None

    def inplace_step_fails(self, node, k: int, step: str) -> str | None:
        return None

    def provision_fails(self, node) -> str | None:
        return None

    def quota_exhausted(self) -> bool:
        return False

    def subnet_exhausted(self, zone: str) -> bool:
        return False

    def pdb_stuck(self, workload) -> bool:
        return False
