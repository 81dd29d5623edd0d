"""Adapters between the runner and a cluster: the ``ClusterPort`` protocol and its implementations.

Lives here: ``port`` (the protocol), ``simulated`` (the simpy world), ``dryrun`` (records
actions, applies none) and ``live`` (a real cluster through the Kubernetes API and hooks),
with what the live one is made of: ``kubeconfig`` and ``certs`` (finding and checking the
connection settings), ``kube_client`` and ``kube_retry`` (the API calls, and riding through
429s, 5xx, timeouts and outages), ``kube_translate``, ``kube_images`` and ``kube_state`` (API
objects into midair's records), ``live_drain``, ``live_operations``, ``live_provisioning``,
``hooks`` and ``hook_ledger`` (drains and the hook-backed operations, which survive midair being
killed, and which Node a provisioning brings),
and ``helm`` (Helm 3 releases for the removed-API check).
May import ``models``, ``sim.world``, ``sim.manifests`` and client libraries; never the runner
or the CLI.
"""
