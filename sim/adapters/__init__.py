"""Adapters between the runner and a cluster: the ``ClusterPort`` protocol and its implementations.

Lives here: ``port`` (the protocol), ``simulated`` (the simpy world), ``dryrun`` (records
actions, applies none) and ``live`` (a real cluster through the Kubernetes API and hooks).
May import ``models``, ``sim.world`` and client libraries; never the runner or the CLI.
"""
