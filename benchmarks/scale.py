"""Wall time and peak memory of one in-place and one replacement run at 100, 1,000 and 5,000 nodes.

Each case runs in its own process so that its peak resident memory is its own.
Usage: python benchmarks/scale.py [NODES ...]   (default: 100 1000 5000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

PODS_PER_NODE = 30
PODS_PER_WORKLOAD = 300


def scenario_text(nodes: int) -> str:
    workloads = "\n".join(
        f"  - {{name: app-{i}, replicas: {PODS_PER_WORKLOAD}, cpu: 100m, memory: 128Mi, "
        f"pdb: {{maxUnavailable: 10%}}, startupSeconds: 5}}"
        for i in range(nodes * PODS_PER_NODE // PODS_PER_WORKLOAD))
    return f"""apiVersion: midair/v1alpha1
kind: Scenario
metadata: {{name: scale-{nodes}}}
cluster:
  version: "1.29.4"
  controlPlane: {{apiservers: 3}}
  nodePools:
    - {{name: general, count: {nodes}, cpu: "16", memory: 64Gi, maxPods: 110, zones: [a, b, c]}}
  addons: {{corednsReplicas: 0}}
workloads:
{workloads}
target: "1.29.8"
strategies: [{{name: inplace, maxUnavailable: 10%}}, {{name: replace, maxSurge: 10%, maxUnavailable: 0}}]
"""


def one(nodes: int, label: str) -> dict:
    import resource

    from sim.scenario import load_scenario_text
    from sim.simulate import simulate

    scenario = load_scenario_text(scenario_text(nodes), f"scale-{nodes}")
    started = time.perf_counter()
    result = simulate(scenario, scenario.strategy(label), seed=1)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pods = sum(w.replicas for w in scenario.cluster.workloads)
    return {"nodes": nodes, "pods": pods, "strategy": label, "wall_s": round(wall, 2), "peak_rss_mib": round(peak),
            "completed": result.completed, "simulated_s": result.metrics["duration_s"]}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(int(argv[1]), argv[2])))
        return
    sizes = [int(a) for a in argv] or [100, 1000, 5000]
    print("| nodes | pods | strategy | wall time | peak RSS | simulated upgrade | completed |")
    print("|---:|---:|---|---:|---:|---:|---|")
    for nodes in sizes:
        for label in ("inplace", "replace"):
            out = subprocess.run([sys.executable, __file__, "--one", str(nodes), label],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            print(f"| {r['nodes']:,} | {r['pods']:,} | {r['strategy']} | {r['wall_s']} s | {r['peak_rss_mib']} MiB | "
                  f"{r['simulated_s'] / 3600:.1f} h | {r['completed']} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
