"""A valid scenario as text, with the line numbers the error tests refer to."""

BASE = """\
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: example}
cluster:
  version: "1.27.4"
  controlPlane: {apiservers: 3}
  nodePools:
    - name: general
      count: 6
      version: "1.27.4"
      cpu: "8"
      memory: 32Gi
      maxPods: 110
      zones: [a, b, c]
      runtime: "containerd://1.7.2"
  addons: {coredns: "1.10.1", kubeProxy: "1.27.4", cni: {name: calico, version: "3.26.1"}}
  cloud: {subnetFreeIPs: 20}
workloads:
  - name: web
    kind: Deployment
    replicas: 6
    cpu: 500m
    memory: 512Mi
    pdb: {minAvailable: 4}
    startupSeconds: 15
  - {name: db, kind: StatefulSet, replicas: 1, localStorage: true}
  - {name: node-exporter, kind: DaemonSet}
target: "1.29.0"
strategies: [{name: inplace, maxUnavailable: 1}, {name: replace, maxSurge: 1, maxUnavailable: 0}]
faults: []
runs: 20
seed: 42
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)
