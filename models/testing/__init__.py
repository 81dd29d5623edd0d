"""Public Hypothesis generators of midair's inputs, for property tests of upgrade plans and strategies.

Call them *generators*: "strategy" already means an upgrade strategy here. Each takes
keyword-only bounds with sensible defaults and builds values that are valid by construction
(nothing is filtered away after the fact):

- ``clusters()``: ``ClusterState`` values before an upgrade, within the version-skew policy, with
  services over their workloads (``context``: services, autoscaler settings, windows, budgets);
- ``targets(cluster)`` and ``upgrades()``: versions to upgrade to, and ``(cluster, target)``
  pairs, each with a plan (``models.plan.path_for_state``) and no blocking pre-check finding;
- ``fault_schedules()``: fault lists in the scenario-file format, and ``fault_types_for()``, the
  types that can touch a strategy with given traits;
- ``scenarios()`` and ``to_scenario()``: whole scenario files as dicts;
- ``mid_upgrade_views()`` and ``mid_upgrades()``: clusters part-way through an upgrade;
- ``cluster_changes()``, ``timings()`` and ``varied()``: variations of one scenario (small
  cluster changes, timings pinned within their ranges), as ``midair fuzz`` draws them.

Installed with the ``testing`` extra (``pip install 'midair[testing]'``). May import
Hypothesis, the standard library and ``models``; never ``sim``, simpy, matplotlib or a
Kubernetes client. ``models`` itself never imports this package.
"""

from models.testing.clusters import clusters, targets, upgrades
from models.testing.faults import FAULT_RULES, FAULT_TYPES, distributions, fault_schedules, fault_types_for
from models.testing.scenarios import scenarios, strategy_entries, to_scenario
from models.testing.variations import cluster_changes, timings, varied
from models.testing.views import MidUpgrade, batch_knobs, mid_upgrade_views, mid_upgrades
from models.testing.workloads import pdbs

__all__ = [
    "FAULT_RULES",
    "FAULT_TYPES",
    "MidUpgrade",
    "batch_knobs",
    "cluster_changes",
    "clusters",
    "distributions",
    "fault_schedules",
    "fault_types_for",
    "mid_upgrade_views",
    "mid_upgrades",
    "pdbs",
    "scenarios",
    "strategy_entries",
    "targets",
    "timings",
    "to_scenario",
    "upgrades",
    "varied",
]
