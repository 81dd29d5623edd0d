"""The parameters (knobs) that strategies accept, declared as data.

A scenario's ``strategies:`` entry is checked against the parameters of the strategy it
names, so a typo in a knob is an error with a "did you mean", not a silent default.
Defaults cite the platform they come from (see docs/strategies.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from models.drain import DrainOptions
from models.karpenter import DEFAULT_BUDGETS
from models.quantity import IntOrPercent

INT_OR_PERCENT = "int-or-percent"
DURATION = "duration"
INT = "int"
BOOL = "bool"
CHOICE = "choice"
DRAIN_OPTIONS = "drain-options"
POOL_LIST = "pool-list"  # names of the scenario's pools
WINDOWS = "windows"  # models.schedule.Window records (a cron schedule in UTC and a duration)
BUDGETS = "budgets"  # models.karpenter.Budget records

UNDRAINABLE_CHOICES = ("fail", "wait", "force", "cordon-and-continue")
# Pools always go one after another, in the order the scenario lists them (that is the
# "by pool" order); this is the order of the nodes within a pool.
ORDER_CHOICES = ("name", "zone", "least-loaded")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None


MAX_SURGE = Param("maxSurge", INT_OR_PERCENT, IntOrPercent(0),
                  "nodes a pool may have above its size during the upgrade (a count or a percent of the pool, rounded up)")
MAX_UNAVAILABLE = Param("maxUnavailable", INT_OR_PERCENT, IntOrPercent(1),
                        "nodes of a pool that may be unavailable at once (a count or a percent of the pool, rounded down)")
DRAIN_TIMEOUT = Param("drainTimeout", DURATION, 900.0,
                      "how long a drain may take before the undrainable policy applies; 0 waits forever "
                      "(default 15 min, as kOps and EKS managed node groups)")
UNDRAINABLE = Param("undrainable", CHOICE, "fail",
                    "what to do when a drain times out: fail (halt the upgrade), wait (keep retrying), "
                    "force (delete the pods despite their budgets; counted as PDB violations), "
                    "cordon-and-continue (leave the node cordoned on its old version and go on, as AKS can)",
                    choices=UNDRAINABLE_CHOICES)
SOAK = Param("soakSeconds", DURATION, 0.0, "wait this long after each batch of nodes before the next one")
VALIDATE = Param("validate", BOOL, False,
                 "between batches, wait until every node is Ready and every workload is at its budget (kOps-style)")
VALIDATE_TIMEOUT = Param("validateTimeout", DURATION, 900.0, "how long validation may wait before the upgrade halts")
ORDER = Param("order", CHOICE, "name", "the order of the nodes within a pool (pools go one after another, as "
                                      "listed): name, zone (zone by zone), least-loaded (fewest pods first)",
              choices=ORDER_CHOICES)
CONTROL_PLANE_SURGE = Param("controlPlaneSurge", BOOL, False,
                            "add each new control-plane instance before removing the old one (no gap in its service)")
INPLACE_RETRIES = Param("inplaceRetries", INT, 2, "how many times a failed in-place node upgrade is retried", minimum=0)
ON_INPLACE_FAILURE = Param("onInplaceFailure", CHOICE, "halt",
                           "when a node's in-place upgrade still fails after its retries: halt the upgrade, or "
                           "replace the node (drain it, delete it, add a new one at the target)",
                           choices=("halt", "replace"))
DRAIN_FIRST = Param("drainFirst", BOOL, False,
                    "drain a node before upgrading it in place (upstream's advice for minor kubelet upgrades); "
                    "off by default, as in the seed's in-place method, so pods are not rebuilt")
GREEN_BATCH = Param("greenBatch", INT_OR_PERCENT, IntOrPercent(100, percent=True),
                    "green nodes created at once (a count or a percent of the pool; 100% creates the whole green pool)")
DRAIN_BATCH = Param("drainBatch", INT_OR_PERCENT, IntOrPercent(1),
                    "blue nodes drained at once (a count or a percent of the pool)")
# GKE's nodePoolSoakDuration: "By default, it is set to one hour (3600 seconds). The maximum length of the soak
# time is 7 days" (cloud.google.com/kubernetes-engine/docs/concepts/node-pool-upgrade-strategies, as quoted in
# terraform-google-modules/terraform-google-kubernetes-engine#1551); its batchSoakDuration defaults to zero
# (the container API's StandardRolloutPolicy: "Soak time after each batch gets drained. Default to zero.")
FINAL_SOAK = Param("finalSoakSeconds", DURATION, 3600.0,
                   "keep the drained blue pool this long before deleting it (GKE's nodePoolSoakDuration, default "
                   "1 h); a failed health check rolls back")

DRAIN = Param("drain", DRAIN_OPTIONS, DrainOptions(),
              "kubectl drain's options: ignoreDaemonSets, deleteEmptyDirData, force (pods no controller owns), "
              "disableEviction (delete past every budget), skipWaitForDeleteTimeout, skipWaitWhenUnreachable; "
              "defaults: what Cluster API, kOps and the managed platforms use (all but disableEviction on, and a "
              "5 min wait for pods deleting on an unreachable node)")
OLD_NODES_CHOICES = ("schedulable", "preferNoSchedule", "cordon")
OLD_NODES = Param("oldNodes", CHOICE, "schedulable",
                  "what the old nodes of a pool are told when its roll starts: schedulable (Cluster API: evicted pods may "
                  "land on the next old node), preferNoSchedule (kOps' taint: only when nothing else fits), cordon "
                  "(EKS managed node groups: none, once the surge nodes are Ready; a NoSchedule taint, so they still "
                  "count as available)", choices=OLD_NODES_CHOICES)
SURGE_PER_ZONE = Param("surgePerZone", INT, 0,
                       "with N above 0, a pool surges by the larger of N nodes per zone and maxUnavailable, and at "
                       "least maxSurge (EKS managed node groups: 2)", minimum=0)
UNAVAILABLE_ROUNDING = Param("unavailableRounding", CHOICE, "down",
                             "how a percent maxUnavailable rounds to nodes: down (Deployments, Cluster API), up (AKS)",
                             choices=("down", "up"))
POST_DRAIN_WAIT = Param("postDrainWait", DURATION, 0.0,
                        "wait this long after a node is drained before it is deleted (EKS: 60 s, so load balancers "
                        "stop sending to it)")
NODE_VOLUME_DETACH_TIMEOUT = Param("nodeVolumeDetachTimeout", DURATION, None,
                                   "after a node's drain, wait up to this long for its volumes to be detached before "
                                   "deleting it (Cluster API's nodeVolumeDetachTimeout; 0 waits forever, as Cluster "
                                   "API's default); unset: delete it at once, as the other platforms do")
IN_FLIGHT = Param("inFlight", CHOICE, "pool",
                  "how many old nodes may be on their way out at once: pool (as many as keep the pool at its size "
                  "minus maxUnavailable available, new nodes included, as Cluster API's MachineSets scale down), "
                  "maxUnavailable (that many at a time whatever the surge: EKS upgrades maxUnavailable nodes in "
                  "parallel)", choices=("pool", "maxUnavailable"))
ADDONS_ORDER = Param("addons", CHOICE, "withControlPlane",
                     "when kube-proxy and CoreDNS move: withControlPlane (after every control-plane hop, as kubeadm "
                     "upgrade apply), afterWorkers (the seed's third movement; kube-proxy still moves earlier where "
                     "the skew policy would be broken)", choices=("withControlPlane", "afterWorkers"))

# -- waves, windows and the autoscaler (issue 16; models.strategies.waves, windows, base.pause_autoscaler) --
POOL_ORDER = Param("poolOrder", POOL_LIST, (),
                   "the order in which the pools roll, one after another (waves); pools not listed follow in the "
                   "scenario's order")
POOL_SOAK = Param("poolSoakSeconds", DURATION, 0.0, "wait this long after a pool's roll before the next pool starts")
PROMOTION_GATE = Param("promotionGate", BOOL, False,
                       "the next pool starts only once the cluster is healthy after the last one's roll (every node "
                       "Ready, every workload at its budget); halt if it is not within validateTimeout")
CANARY = Param("canary", BOOL, False,
               "each pool's roll starts with one node alone; the rest follow after canarySoakSeconds, once the "
               "cluster is healthy (halt if it is not within validateTimeout)")
CANARY_SOAK = Param("canarySoakSeconds", DURATION, 600.0, "how long the canary node soaks before the rest follow")
MAINTENANCE_WINDOWS = Param("maintenanceWindows", WINDOWS, (),
                            "recurring windows in UTC, each a cron schedule and a duration, outside which no new "
                            "batch (and no control-plane instance) starts; work in flight finishes. Empty: any time")
PAUSE_AUTOSCALER = Param("pauseAutoscaler", BOOL, False,
                         "annotate every node cluster-autoscaler.kubernetes.io/scale-down-disabled: \"true\" while the "
                         "upgrade runs, so cluster-autoscaler removes none of them (new and surge nodes included)")
WAVE_PARAMS: tuple[Param, ...] = (POOL_ORDER, POOL_SOAK, PROMOTION_GATE, CANARY, CANARY_SOAK, MAINTENANCE_WINDOWS,
                                  PAUSE_AUTOSCALER)

COMMON_PARAMS: tuple[Param, ...] = (MAX_SURGE, MAX_UNAVAILABLE, DRAIN_TIMEOUT, UNDRAINABLE, SOAK, VALIDATE,
                                    VALIDATE_TIMEOUT, ORDER, CONTROL_PLANE_SURGE, DRAIN, UNAVAILABLE_ROUNDING,
                                    ADDONS_ORDER, *WAVE_PARAMS)
INPLACE_PARAMS: tuple[Param, ...] = (*COMMON_PARAMS, OLD_NODES, INPLACE_RETRIES, ON_INPLACE_FAILURE, DRAIN_FIRST)
# Rolling replacement defaults to Cluster API's MachineDeployment: maxSurge 1, maxUnavailable 0.
_REPLACING: tuple[Param, ...] = (
    replace(MAX_SURGE, default=IntOrPercent(1)),
    replace(MAX_UNAVAILABLE, default=IntOrPercent(0)),
    *COMMON_PARAMS[2:],
)
# AKS's rolling upgrade (learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling): "Reimage old nodes: As
# old nodes are drained, they're reimaged to receive the new version. The reimaged node becomes the buffer node for
# the next set of nodes to upgrade" and "Remove surge nodes: After all nodes are upgraded, any remaining buffer
# nodes are removed"; its surge node is "cordoned, drained and deleted" (aks/how-does-upgrade-happen). GKE's surge
# nodes are the upgraded nodes: it "creates 2 additional (upgraded) nodes, then it brings down 3 old" (UpgradeSettings).
SURGE_NODES = Param("surgeNodes", CHOICE, "keep",
                    "what becomes of the surge nodes: keep (GKE: they are the pool's upgraded nodes, the old ones are "
                    "deleted), remove (AKS: each drained old node is rebuilt at the target and becomes the buffer for "
                    "the next batch; once every node is upgraded the surge nodes are cordoned, drained and deleted)",
                    choices=("keep", "remove"))
_SURGING: tuple[Param, ...] = (*_REPLACING, OLD_NODES, SURGE_PER_ZONE, POST_DRAIN_WAIT, NODE_VOLUME_DETACH_TIMEOUT)
# Surge upgrades default to GKE's: maxSurge 1, maxUnavailable 0.
SURGE_PARAMS: tuple[Param, ...] = (*_SURGING, SURGE_NODES)
REPLACE_PARAMS: tuple[Param, ...] = (*_SURGING, IN_FLIGHT)
# blue-green cordons the whole blue pool once green is Ready: oldNodes is what it does by design
BLUEGREEN_PARAMS: tuple[Param, ...] = (*_REPLACING, GREEN_BATCH, DRAIN_BATCH, FINAL_SOAK)


# Karpenter's NodePool disruption settings, at Karpenter's defaults (kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go)
KARPENTER_BUDGETS = Param("budgets", BUDGETS, DEFAULT_BUDGETS,
                          "NodePool disruption budgets: each {nodes: count or percent (rounded up), schedule: cron in "
                          "UTC, duration, reasons: [Drifted, Empty, Underutilized]}; the most restrictive active one "
                          "wins (default: one budget of 10%)")
CONSOLIDATION = Param("consolidation", CHOICE, "whenEmptyOrUnderutilized",
                      "Karpenter's consolidation policy: off (consolidateAfter: Never; a static NodePool keeping the "
                      "pool's size), whenEmpty, whenEmptyOrUnderutilized (Karpenter's default)",
                      choices=("off", "whenEmpty", "whenEmptyOrUnderutilized"))
CONSOLIDATE_AFTER = Param("consolidateAfter", DURATION, 0.0,
                          "how long a node must have been empty or underutilized before it is consolidated")
TERMINATION_GRACE = Param("terminationGracePeriod", DURATION, 0.0,
                          "the nodes' terminationGracePeriod: drift then disrupts nodes holding do-not-disrupt pods "
                          "too, and a drain stops waiting for budgets once it has run this long; 0: not set (wait "
                          "forever)")
KARPENTER_PARAMS: tuple[Param, ...] = (CONTROL_PLANE_SURGE, ADDONS_ORDER, KARPENTER_BUDGETS, CONSOLIDATION,
                                       CONSOLIDATE_AFTER, TERMINATION_GRACE)


def defaults(params: tuple[Param, ...]) -> dict[str, Any]:
    return {p.name: p.default for p in params}
