"""Upgrade strategies: pure, level-triggered planners.

A strategy looks at a ``ClusterState`` (the view), the static ``Plan`` and its own memo,
and returns a ``Decision``: the actions to take now, each with a reason, the memo to
keep, and when to look again. It never sleeps, reads a clock, calls an API or draws a
random number. It may import ``models`` only: never simpy, ``sim`` or a Kubernetes client.

``BUILTIN`` names the built-in strategies (``name -> (import path, parameters)``); users
add their own through the ``midair.strategies`` entry-point group, or name a class in a
scenario as ``module:attr``.
"""

from models.strategies.params import BLUEGREEN_PARAMS, INPLACE_PARAMS, KARPENTER_PARAMS, REPLACE_PARAMS, SURGE_PARAMS

BUILTIN = {
    "inplace": ("models.strategies.inplace:InPlace", INPLACE_PARAMS),
    "replace": ("models.strategies.replace:Replace", REPLACE_PARAMS),
    "surge": ("models.strategies.surge:Surge", SURGE_PARAMS),
    "bluegreen": ("models.strategies.bluegreen:BlueGreen", BLUEGREEN_PARAMS),
    "karpenter-drift": ("models.strategies.karpenter:KarpenterDrift", KARPENTER_PARAMS),
}
