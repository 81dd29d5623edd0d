"""Presets: the upgrade settings of real platforms, as a strategy and its knobs.

Each default names where it comes from (the team's reference table of how managed
systems parameterise upgrades; docs/strategies.md lists them with their sources), or
says that it is midair's own choice where the reference gives no figure.
A preset's knobs can be overridden like any strategy's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    strategy: str
    params: tuple[tuple[str, object], ...]
    summary: str
    sources: tuple[tuple[str, str], ...]  # knob -> where its value comes from


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("gke-surge", "surge", (("maxSurge", 1), ("maxUnavailable", 0), ("drainTimeout", "1h"), ("undrainable", "force")),
           "GKE surge upgrade: one surge node, none unavailable; budgets honoured for up to an hour, then forced",
           (("maxSurge, maxUnavailable", "GKE surge upgrade defaults (maxSurge 1, maxUnavailable 0)"),
            ("drainTimeout, undrainable", "GKE honours PodDisruptionBudgets for up to 1 hour, then evicts "
                                          "(a secondary source; the team's reference marks it so)"))),
    Preset("eks-managed", "replace", (("maxSurge", 1), ("maxUnavailable", 1), ("surgePerZone", 2),
                                      ("oldNodes", "cordon"), ("inFlight", "maxUnavailable"), ("postDrainWait", "60s"),
                                      ("drainTimeout", "15m"),
                                      ("undrainable", "fail")),
           "EKS managed node group: scale up by twice the zones (or maxUnavailable), mark the old nodes "
           "unschedulable, drain one at a time; a drain blocked by a budget fails after 15 min",
           (("maxSurge, surgePerZone", "EKS scale-up phase: the Auto Scaling group grows by the larger of up to twice "
                                       "its Availability Zones and maxUnavailable (awsdocs amazon-eks-user-guide "
                                       "managed-node-update-behavior)"),
            ("maxUnavailable, inFlight", "EKS managed node groups: maxUnavailable 1 by default (at most 100), the "
                                         "nodes it upgrades in parallel"),
            ("oldNodes", "EKS scale-up phase: once the new nodes are Ready it marks the old ones unschedulable"),
            ("postDrainWait", "EKS upgrade phase: after every pod is evicted it waits 60 seconds, then terminates"),
            ("drainTimeout, undrainable", "EKS: a PodDisruptionBudget-blocked drain fails the update after 15 min "
                                          "unless forced (PodEvictionFailure)"))),
    Preset("aks", "surge", (("maxSurge", "10%"), ("maxUnavailable", 0), ("unavailableRounding", "up"),
                            ("drainTimeout", "30m"), ("soakSeconds", 0), ("undrainable", "fail"),
                            ("surgeNodes", "remove")),
           "AKS: 10% surge, 30 min drain timeout, no soak; drained nodes come back at the target and buffer the "
           "next batch, the surge nodes go at the end; an undrainable node fails the upgrade "
           "(or set undrainable: cordon-and-continue)",
           (("maxSurge", "AKS default max surge 10%"),
            ("surgeNodes", "AKS rolling upgrades (learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling): old "
                           "nodes are reimaged once drained and become the buffer for the next set; after all nodes "
                           "are upgraded the remaining buffer nodes are removed (cordoned, drained and deleted: "
                           "aks/how-does-upgrade-happen)"),
            ("maxUnavailable", "midair's choice: AKS surges before it takes a node away; the reference gives no figure"),
            ("unavailableRounding", "AKS agent pool upgrade settings: a percent maxUnavailable rounds up"),
            ("drainTimeout", "AKS drain timeout 30 min"),
            ("soakSeconds", "AKS node soak duration 0"),
            ("undrainable", "AKS undrainable-node behaviour: fail, or cordon the node and keep its surge node"))),
    Preset("capi", "replace", (("maxSurge", 1), ("maxUnavailable", 0), ("drainTimeout", 0), ("undrainable", "wait"),
                               ("controlPlaneSurge", True), ("oldNodes", "schedulable"), ("nodeVolumeDetachTimeout", 0)),
           "Cluster API: MachineDeployment rolling update 1/0, drains forever, control plane with surge 1",
           (("maxSurge, maxUnavailable", "Cluster API MachineDeployment RollingUpdate defaults: maxSurge 1, "
                                         "maxUnavailable 0"),
            ("drainTimeout, undrainable", "Cluster API nodeDrainTimeout 0 = forever, retried every 20 s"),
            ("controlPlaneSurge", "Cluster API KubeadmControlPlane rolls with maxSurge 1"),
            ("nodeVolumeDetachTimeout", "Cluster API waits for a drained machine's volumes to detach before deleting "
                                        "it; nodeVolumeDetachTimeout 0 (the default) waits forever"),
            ("oldNodes, drain", "Cluster API leaves old machines schedulable and drains with IgnoreAllDaemonSets, "
                                "DeleteEmptyDirData and Force, skipping pods deleting for 5 min on an unreachable node "
                                "(cluster-api machine controller drain)"))),
    Preset("kops", "replace", (("maxSurge", 0), ("maxUnavailable", 1), ("oldNodes", "preferNoSchedule"),
                               ("drainTimeout", "15m"), ("validate", True), ("soakSeconds", 15), ("undrainable", "fail")),
           "kOps rolling update: one node at a time, drained for up to 15 min, the cluster validated between nodes",
           (("maxSurge, maxUnavailable", "kOps replaces instance groups one node at a time"),
            ("oldNodes", "kOps taints every node it is about to update PreferNoSchedule first "
                         "(kubernetes/kops docs/operations/rolling-update.md)"),
            ("drainTimeout", "kOps drain timeout 15 min"), ("validate", "kOps validates the cluster between nodes"),
            ("soakSeconds", "kOps interval 15 s between nodes"),
            ("undrainable", "midair's choice: the reference gives kOps' drain timeout, not what follows it"))),
    Preset("karpenter", "karpenter-drift", (("budgets", [{"nodes": "10%"}]), ("consolidation", "whenEmptyOrUnderutilized"),
                                             ("consolidateAfter", "0s"), ("terminationGracePeriod", 0)),
           "Karpenter: drifted nodes replaced within the NodePool's disruption budgets (10%), consolidation on",
           (("budgets", "Karpenter NodePool default: one budget of nodes 10% (kubernetes-sigs/karpenter "
                        "pkg/apis/v1/nodepool.go, kubebuilder default)"),
            ("consolidation, consolidateAfter", "Karpenter defaults: consolidationPolicy WhenEmptyOrUnderutilized, "
                                                "consolidateAfter 0s"),
            ("terminationGracePeriod", "Karpenter leaves it unset by default: drains wait for budgets forever"))),
    Preset("ack-inplace", "inplace", (("maxUnavailable", 1), ("drainFirst", False), ("inplaceRetries", 2),
                                      ("onInplaceFailure", "halt"), ("addons", "afterWorkers")),
           "Alibaba ACK (the seed): in place, in batches, control plane first, after the pre-checks",
           (("strategy", "the seed: ACK upgrades nodes in place, in batches, after a pre-check of cloud resources, "
                         "components and node configuration"),
            ("maxUnavailable, drainFirst, inplaceRetries, onInplaceFailure",
             "midair's inplace defaults: the seed gives no batch size or retry policy"),
            ("addons", "the seed's three movements: the control plane, then the workers in batches, then the system "
                       "components"))),
)}
