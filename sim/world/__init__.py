"""The simulated cluster: a simpy world with one process per activity (a pod's start-up and
termination are steps chained by callbacks instead, ``steps``: the same events in the same order).

Lives here: the mutable entities (``entities``), the capacity index and scheduler,
pods and their controllers, nodes (readiness, in-place upgrades, provisioning,
deletion), evictions and drains, the control plane with its load balancer and leader
election, add-on rollouts, cloud resources, the traffic services send to their pods
(``traffic``), a cluster-autoscaler (``autoscaler``), and ``World`` that ties them together.

May import ``models``, ``sim.sampling``, ``sim.metrics`` and ``sim.faults``; never the
scenario format (``sim.scenario``: the world takes plain records), the adapters, the
runner or the CLI.
"""

from sim.world.core import World

__all__ = ["World"]
