"""Small scenarios with constant timings, so that what a run measures follows from the file.

``TINY``: one apiserver (the API is down for exactly ``controlPlaneInstance``, 100 s, per hop),
two workers in two zones, ``web`` with two replicas and a budget of one; 1.29.8 to 1.30.4 in
one control-plane hop and one worker roll. In place: 0 pods evicted; replacement: 2.
"""

TINY = """\
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: tiny}
cluster:
  version: "1.29.8"
  controlPlane: {apiservers: 1}
  nodePools: [{name: general, count: 2, zones: [a, b]}]
  addons: {corednsReplicas: 0}
workloads:
  - {name: web, replicas: 2, pdb: {minAvailable: 1}, startupSeconds: 10, imagePullSeconds: 0}
target: "1.30.4"
strategies: [{name: inplace}, {name: replace}]
timing:
  nodeProvision: 60s
  controlPlaneInstance: 100s
  controllerInstance: 20s
  inplace: {replaceBinaries: 10s, rejoin: 5s}
runs: 3
seed: 1
"""


def with_expect(*entries: str, text: str = TINY) -> str:
    """``text`` with an ``expect:`` list of the given flow mappings (one per line, from line 21 on: TINY has 19)."""
    return text + "expect:\n" + "".join(f"  - {e}\n" for e in entries)


# Two apiservers (the API stays up while they are upgraded one at a time) and two control-plane
# hops, 1.28.9 to 1.30.4, before one worker roll: a long window in which a kubelet must not move.
TWO_HOPS = TINY.replace('version: "1.29.8"\n  controlPlane: {apiservers: 1}',
                        'version: "1.28.9"\n  controlPlane: {apiservers: 2}').replace("name: tiny", "name: two-hops")


def with_strategy(entry: str, text: str = TWO_HOPS) -> str:
    """``text`` with its strategies replaced by the one flow mapping ``entry``."""
    return text.replace("strategies: [{name: inplace}, {name: replace}]", f"strategies: [{entry}]")

